"""Rectify: homographies by DLT (homography.py), the inverse-mapping warp (warp.py), and the
panel's plain state (session.py). No Qt."""
