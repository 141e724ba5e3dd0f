"""Pyramid: Gaussian/Laplacian/DoG levels with REDUCE/EXPAND (levels.py, _reduce.c), the
multiresolution spline (blend.py) and the panel's computation and export (explorer.py). No Qt."""
