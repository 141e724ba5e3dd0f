"""Local binary pattern histograms: what Fisherfaces see of a face with ``features="lbp"``.

Each pixel is described by which of its 8 neighbours on a circle of radius 2 px are at least as
bright as itself (Ojala, Pietikäinen & Mäenpää 2002): an 8-bit code. Codes with at most two
0/1 changes around the circle ("uniform": spots, edges, corners, line ends) get a bin each, 58
of them, and every other code shares a 59th. The face is cut into a grid of cells
(:data:`LBP_GRID`) and each cell's codes are counted (Ahonen, Hadid & Pietikäinen 2006); the
square roots of the cells' shares, side by side, are the face's description.

Why it suits one-sided light: a code only compares a pixel with its neighbours, so any change
of light that keeps the order of nearby grey levels (a gain, an offset, a gamma, a smooth
shading across the face) leaves it as it was; only a shadow's edge changes the codes along
it. Measured on the development people (gtdb p01-p25 / relit / ORL s1-s20, rank-1,
Fisherfaces by angle, augmented enrolment): gradient orientations 0.977 / 0.896 / 0.99, these
histograms 0.983 / 0.942 / 1.00 (README, Faces: figures, has every variant measured).

References
----------
T. Ojala, M. Pietikäinen and T. Mäenpää, "Multiresolution gray-scale and rotation invariant
texture classification with local binary patterns", IEEE Trans. PAMI 24(7), 971-987, 2002.
T. Ahonen, A. Hadid and M. Pietikäinen, "Face description with local binary patterns:
application to face recognition", IEEE Trans. PAMI 28(12), 2037-2041, 2006.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LBP_BINS", "LBP_GRID", "LBP_POINTS", "LBP_RADIUS", "lbp_codes", "lbp_features"]

#: Neighbours on the circle and its radius in pixels.
LBP_POINTS = 8
LBP_RADIUS = 2.0
#: Cells down and across the face (on a 112 x 92 crop: 14 x 13 px each).
LBP_GRID: tuple[int, int] = (8, 7)
#: Bins per cell: one per uniform code, one for all the others.
LBP_BINS = LBP_POINTS * (LBP_POINTS - 1) + 3


def _uniform_table(points: int) -> np.ndarray:
    """Bin of each ``points``-bit code: uniform codes (at most two changes around the circle)
    numbered in increasing code order, every other code in the last bin."""
    table = np.full(1 << points, points * (points - 1) + 2, dtype=np.intp)
    uniform = 0
    for code in range(1 << points):
        bits = [(code >> i) & 1 for i in range(points)]
        if sum(bits[i] != bits[i - 1] for i in range(points)) <= 2:
            table[code] = uniform
            uniform += 1
    return table


_TABLE = _uniform_table(LBP_POINTS)


def lbp_codes(faces: np.ndarray, radius: float = LBP_RADIUS) -> np.ndarray:
    """Uniform-pattern bin (0 … :data:`LBP_BINS` - 1) of every pixel of ``(M, H, W)`` faces.

    Neighbours that fall between pixels are interpolated bilinearly; the image's edge is
    repeated outside it.
    """
    faces = np.asarray(faces, dtype=np.float32)
    m, height, width = faces.shape
    pad = int(np.ceil(radius)) + 1
    padded = np.pad(faces, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    code = np.zeros(faces.shape, dtype=np.intp)
    for p in range(LBP_POINTS):
        angle = 2.0 * np.pi * p / LBP_POINTS
        dy, dx = -radius * np.sin(angle), radius * np.cos(angle)
        dy, dx = round(dy, 6), round(dx, 6)  # exact zeros and integers where they are meant
        y0, x0 = int(np.floor(dy)), int(np.floor(dx))
        fy, fx = dy - y0, dx - x0

        def at(oy: int, ox: int) -> np.ndarray:
            return padded[:, pad + oy : pad + oy + height, pad + ox : pad + ox + width]

        neighbour = at(y0, x0) * np.float32((1 - fy) * (1 - fx))
        if fx:
            neighbour += at(y0, x0 + 1) * np.float32((1 - fy) * fx)
        if fy:
            neighbour += at(y0 + 1, x0) * np.float32(fy * (1 - fx))
        if fx and fy:
            neighbour += at(y0 + 1, x0 + 1) * np.float32(fy * fx)
        code |= (neighbour >= faces).astype(np.intp) << p
    return _TABLE[code]


def lbp_features(rows: np.ndarray, shape: tuple[int, int],
                 grid: tuple[int, int] = LBP_GRID, chunk: int = 256) -> np.ndarray:
    """``(M, cells · LBP_BINS)``: each cell's uniform-pattern shares, square-rooted.

    The square root (the Hellinger map) makes Euclidean distances between the rows behave like
    a histogram distance: a bin that holds many codes no longer outweighs the rare ones.
    """
    height, width = shape
    rows_down, cols_across = grid
    cell_y = np.minimum(np.arange(height) * rows_down // height, rows_down - 1)
    cell_x = np.minimum(np.arange(width) * cols_across // width, cols_across - 1)
    cell = (cell_y[:, None] * cols_across + cell_x[None, :]).ravel()
    cells = rows_down * cols_across
    per_cell = np.maximum(np.bincount(cell, minlength=cells), 1).astype(np.float64)  # tiny images
    rows = np.asarray(rows)
    out = np.empty((rows.shape[0], cells * LBP_BINS), dtype=np.float64)
    for start in range(0, rows.shape[0], chunk):
        block = rows[start : start + chunk].reshape(-1, height, width)
        codes = lbp_codes(block).reshape(len(block), -1)
        index = (np.arange(len(block))[:, None] * (cells * LBP_BINS)
                 + cell[None, :] * LBP_BINS + codes)
        counts = np.bincount(index.ravel(), minlength=len(block) * cells * LBP_BINS)
        counts = counts.reshape(len(block), cells, LBP_BINS) / per_cell[None, :, None]
        out[start : start + len(block)] = np.sqrt(counts).reshape(len(block), -1)
    return out
