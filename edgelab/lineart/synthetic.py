"""A synthetic colour illustration with a known outline, and scores against that outline.

Why it exists: to *measure* what a line extractor does, we need a drawing whose lines we
know to the pixel. :func:`draw_illustration` paints flat-colour shapes (sky, hills, a sun,
a house, a cloud, a tree) with dark outlines of a known stroke width using OpenCV, and
records, while it draws, which pixels ended up as outline (later shapes cover earlier
ones, so the mask is the outline that is *visible* in the final picture). Everything is
drawn without anti-aliasing (``cv2.LINE_8``), so the picture and its mask are exact and
identical on every machine with the same OpenCV version. It is synthetic data, and
labelled as such wherever it is shown.

Scores (all on boolean masks, True = line pixel):

* :func:`precision_recall` with a tolerance of ``tolerance`` pixels in chessboard
  distance (a detected pixel counts as correct if a true line pixel lies in the
  ``(2 t + 1)``-square around it, and a true pixel counts as found if a detected pixel
  does); the default 1 px forgives a one-pixel shift but not a second, parallel line
  ``stroke`` pixels away;
* :func:`stroke_profile`: along every row and every column, each place where the scan
  line crosses a true outline cleanly (a run of at most ``max_run`` true pixels with no
  other true pixel within ``margin`` on either side) is a *crossing*; in the window
  ``[start - margin, end + margin]`` we count the separate runs of detected pixels
  (**strokes per crossing**: 1 for a clean line, 2 for an edge detector's double line)
  and their lengths (**stroke thickness** along the scan line, which the true outline
  gets measured with too, so the two are comparable);
* :func:`score`: both of the above for one line-art image, as the table row notebook 06
  prints for every method.

The picture is drawn by OpenCV's rasteriser (``fillPoly``, ``polylines``, ``circle``,
``ellipse``), so its pixels, and every checksum of them, are fixed for a given OpenCV
rather than by this module alone: a release that drew an ellipse one pixel differently
would change the checksums while every score stayed the same. (OpenCV 4.14 and 5.0 draw
it identically.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE = 512          # the illustration is SIZE x SIZE pixels
STROKE = 3          # outline width in pixels
OUTLINE_RGB = (24, 22, 30)


@dataclass(frozen=True)
class Illustration:
    """The drawn picture (RGB uint8) and its visible outline (bool mask), plus how."""

    image: np.ndarray
    outline: np.ndarray
    stroke: int


def _shapes(size: int):
    """(kind, geometry, fill RGB) in drawing order, in units of the canvas size."""
    s = size / 512
    p = lambda *xy: np.round(np.array(xy, np.float64).reshape(-1, 2) * s).astype(np.int32)  # noqa: E731
    return [
        ("poly", p(12, 330, 140, 270, 270, 320, 400, 250, 499, 300, 499, 499, 12, 499), (120, 180, 90)),
        ("circle", (p(400, 95)[0], round(55 * s)), (250, 205, 60)),
        ("ellipse", (p(150, 90)[0], p(85, 38)[0], 0), (235, 240, 250)),
        ("ellipse", (p(215, 120)[0], p(60, 30)[0], 0), (225, 232, 248)),
        ("poly", p(90, 300, 250, 300, 250, 440, 90, 440), (200, 80, 70)),
        ("poly", p(70, 305, 170, 215, 270, 305), (110, 70, 60)),
        ("poly", p(150, 360, 190, 360, 190, 440, 150, 440), (70, 60, 140)),
        ("poly", p(105, 330, 135, 330, 135, 360, 105, 360), (170, 215, 240)),
        ("poly", p(205, 330, 235, 330, 235, 360, 205, 360), (170, 215, 240)),
        ("poly", p(360, 330, 384, 330, 384, 450, 360, 450), (120, 85, 50)),
        ("circle", (p(372, 300)[0], round(48 * s)), (60, 140, 70)),
        ("ellipse", (p(430, 455)[0], p(40, 18)[0], -20), (245, 170, 200)),
    ]


def draw_illustration(size: int = SIZE, stroke: int = STROKE,
                      background=(205, 225, 245)) -> Illustration:
    """Draw the illustration and its ground-truth outline mask (deterministic)."""
    import cv2

    if size < 64:
        raise ValueError(f"size must be at least 64 pixels, got {size}")
    if stroke % 2 == 0 or not 1 <= stroke <= size // 32:
        raise ValueError(f"stroke must be an odd width of 1..{size // 32} pixels for size {size}, "
                         f"got {stroke}")
    image = np.empty((size, size, 3), np.uint8)
    image[:] = background
    label = np.zeros((size, size), np.uint8)  # 255 where the visible outline is
    # OpenCV draws a LINE_8 line of thickness t as 2 * (t // 2) + 1 pixels across (t = 2
    # and t = 3 both give 3), so a stroke of odd width w is drawn with thickness w - 1.
    line = dict(thickness=max(stroke - 1, 1), lineType=cv2.LINE_8)
    for kind, geometry, fill in _shapes(size):
        for canvas, fill_value, outline_value in ((image, fill, OUTLINE_RGB), (label, 0, 255)):
            if kind == "poly":
                cv2.fillPoly(canvas, [geometry], fill_value, lineType=cv2.LINE_8)
                cv2.polylines(canvas, [geometry], True, outline_value, **line)
            elif kind == "circle":
                center, radius = geometry
                cv2.circle(canvas, tuple(int(v) for v in center), radius, fill_value, -1, cv2.LINE_8)
                cv2.circle(canvas, tuple(int(v) for v in center), radius, outline_value, **line)
            else:
                center, axes, angle = geometry
                args = (tuple(int(v) for v in center), tuple(int(v) for v in axes), angle, 0, 360)
                cv2.ellipse(canvas, *args, fill_value, -1, cv2.LINE_8)
                cv2.ellipse(canvas, *args, outline_value, **line)
    return Illustration(image=image, outline=label > 0, stroke=stroke)


def line_mask(line_art: np.ndarray, level: int = 128) -> np.ndarray:
    """Line pixels of dark-on-white line art: True where darker than ``level``."""
    return np.asarray(line_art) < level


def _near(mask: np.ndarray, tolerance: int) -> np.ndarray:
    import cv2

    if tolerance == 0:
        return mask
    k = np.ones((2 * tolerance + 1, 2 * tolerance + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), k) > 0


def precision_recall(detected: np.ndarray, truth: np.ndarray, tolerance: int = 1) -> tuple[float, float]:
    """Line-pixel precision and recall of ``detected`` against ``truth`` (bool masks)."""
    detected, truth = np.asarray(detected, bool), np.asarray(truth, bool)
    if detected.shape != truth.shape:
        raise ValueError(f"masks differ in shape: detected {detected.shape}, truth {truth.shape}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 pixels, got {tolerance}")
    precision = float((detected & _near(truth, tolerance)).sum() / max(detected.sum(), 1))
    recall = float((truth & _near(detected, tolerance)).sum() / max(truth.sum(), 1))
    return precision, recall


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a 1-D bool array."""
    padded = np.concatenate(([False], row, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


@dataclass(frozen=True)
class StrokeProfile:
    """Per clean crossing of the true outline: how many detected strokes, how thick."""

    crossings: int
    strokes: np.ndarray      # detected runs in each crossing window (int)
    thickness: np.ndarray    # length of every detected run found (pixels along the scan line)
    truth_thickness: np.ndarray  # length of the true run at each crossing

    @property
    def strokes_median(self) -> float:
        return float(np.median(self.strokes)) if self.crossings else float("nan")

    def share(self, n: int) -> float:
        """Fraction of crossings with exactly ``n`` detected strokes."""
        return float(np.mean(self.strokes == n)) if self.crossings else float("nan")

    @property
    def thickness_mean(self) -> float:
        return float(self.thickness.mean()) if self.thickness.size else float("nan")


def stroke_profile(detected: np.ndarray, truth: np.ndarray, *, max_run: int | None = None,
                   margin: int | None = None, stroke: int = STROKE) -> StrokeProfile:
    """Count detected strokes and their thickness across clean crossings of ``truth``.

    Defaults: ``max_run = stroke + 1`` (scan lines roughly across the outline, not along
    it) and ``margin = stroke`` (room for an edge pixel on each side of the stroke).
    """
    detected, truth = np.asarray(detected, bool), np.asarray(truth, bool)
    if detected.shape != truth.shape:
        raise ValueError(f"masks differ in shape: detected {detected.shape}, truth {truth.shape}")
    max_run = stroke + 1 if max_run is None else max_run
    margin = stroke if margin is None else margin
    strokes, thickness, truth_thickness = [], [], []
    for t_img, d_img in ((truth, detected), (truth.T, detected.T)):
        for t_row, d_row in zip(t_img, d_img):
            if not t_row.any():
                continue
            runs = _runs(t_row)
            for j, (a, b) in enumerate(runs):
                lo, hi = a - margin, b + margin
                if b - a > max_run or lo < 0 or hi > t_row.size:
                    continue
                if (j > 0 and runs[j - 1][1] > lo) or (j + 1 < len(runs) and runs[j + 1][0] < hi):
                    continue  # another outline too close: not a clean crossing
                found = _runs(d_row[lo:hi])
                strokes.append(len(found))
                thickness.extend(e - s for s, e in found)
                truth_thickness.append(b - a)
    return StrokeProfile(len(strokes), np.array(strokes, int), np.array(thickness, int),
                         np.array(truth_thickness, int))


SCORE_COLUMNS = ("precision", "recall", "strokes per crossing (median)", "1 stroke (share)",
                 "2 strokes (share)", "thickness (px)")


def score(line_art: np.ndarray, illustration: Illustration,
          tolerance: int = 1) -> tuple[StrokeProfile, dict[str, float]]:
    """Score dark-on-white ``line_art`` against ``illustration``'s true outline.

    Returns the :class:`StrokeProfile` and one table row (the :data:`SCORE_COLUMNS`):
    precision and recall with ``tolerance`` pixels of slack, the median number of strokes
    per clean crossing, the shares of crossings with one and with two strokes, and the
    mean stroke thickness along the scan lines. Line pixels are those darker than 128
    (:func:`line_mask`); a colour result should be converted to gray first.
    """
    line_art = np.asarray(line_art)
    if line_art.shape != illustration.outline.shape:
        raise ValueError(f"line art has shape {line_art.shape}; the illustration's outline has "
                         f"{illustration.outline.shape} (convert colour results to gray first)")
    mask = line_mask(line_art)
    precision, recall = precision_recall(mask, illustration.outline, tolerance=tolerance)
    profile = stroke_profile(mask, illustration.outline, stroke=illustration.stroke)
    row = dict(zip(SCORE_COLUMNS, (precision, recall, profile.strokes_median, profile.share(1),
                                   profile.share(2), profile.thickness_mean)))
    return profile, row


def runs_along(line_art: np.ndarray, *, row: int | None = None, column: int | None = None,
               span: tuple[int, int] | None = None, level: int = 128) -> list[tuple[int, int]]:
    """The runs of line pixels (darker than ``level``) along one row or one column.

    ``span=(start, stop)`` limits the scan to that stretch; runs are ``[start, end)`` in
    image coordinates (row or column index). For reading a photo's line art where there is
    no ground truth: how many separate lines does a method draw across one feature?
    """
    art = np.asarray(line_art)
    if (row is None) == (column is None):
        raise ValueError("give exactly one of row= or column=")
    line = art[row] if row is not None else art[:, column]
    start, stop = span if span is not None else (0, line.size)
    if not 0 <= start < stop <= line.size:
        raise ValueError(f"span {span} lies outside the scan line (0..{line.size})")
    return [(a + start, b + start) for a, b in _runs(line[start:stop] < level)]
