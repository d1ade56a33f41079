"""Line art from colour illustrations: one clean line per stroke, not two.

Why this module exists
----------------------
An edge detector (Canny, Sobel, Laplacian) marks where brightness *changes*. A dark stroke
in a drawing has two such places, its left and its right side, so edge detection draws
the outline of each outline: two thin lines per stroke. Automatic colourization needs the
opposite, the stroke itself, once. Morphology gives it in four cheap steps:

1. **grayscale** the image;
2. **dilate** it with a ``kernel`` x ``kernel`` square (a running maximum): every thin
   dark line narrower than the kernel is painted over by its brighter surroundings;
3. **difference** ``dilated - gray``: zero on flat regions, large exactly where dark
   lines were (dilation never darkens, so the difference is never negative);
4. **invert** ``255 - difference``: dark lines on white paper; then, depending on
   ``mode``, **threshold** it.

A stroke is erased by the dilation, and so comes out whole, when it is at most
``(kernel - 1) * iterations`` pixels wide; wider strokes keep a dark core and come out
hollow (a double line again), so pick the kernel larger than the strokes.

Modes
-----
``"binary"`` (default)
    Pixels of the inverted difference at or below ``threshold`` become black (0), the rest
    white (255). ``threshold=None`` picks it per image with Otsu's method.
``"soft"``
    Like ``"binary"`` for the paper (pixels above the threshold become 255), but line
    pixels keep their gray level, so anti-aliased strokes stay smooth. This is the usual
    look of colourization training data. ``threshold=None``: Otsu.
``"gray"``
    The inverted difference as it is, continuous, no threshold (passing one is an error).

Inputs
------
``(H, W)`` or ``(H, W, C)`` NumPy arrays, ``uint8`` or ``uint16``, with C = 1 (gray),
2 (gray + alpha), 3 (colour) or 4 (colour + alpha). Colour is RGB by default
(``channel_order="bgr"`` for arrays from ``cv2.imread``). 16-bit images are rounded to
8 bits first (the output is 8-bit line art); alpha is composited on white first, so
transparent areas are paper. The output is always ``uint8`` ``(H, W)``: white background,
dark lines.

Two implementations of the same method give bit-identical output: OpenCV (``backend=
"opencv"``, the fast one) and plain NumPy (``backend="numpy"``: the dilation as sliding
maxima, OpenCV's fixed-point grayscale weights and its Otsu rule written out), which is
the reference the tests and the benchmark compare against.

The batch tool, the pair builder and ``edgelab lineart`` are in :mod:`edgelab.lineart.batch`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

MODES = ("binary", "soft", "gray")
CHANNEL_ORDERS = ("rgb", "bgr")
BACKENDS = ("opencv", "numpy")

# OpenCV's fixed-point RGB -> gray weights (0.299, 0.587, 0.114) in units of 2**-15;
# written out so the NumPy backend rounds exactly as cv2.cvtColor does.
_GRAY_SHIFT = 15
_GRAY_WEIGHTS_RGB = (9798, 19235, 3735)


# ----------------------------------------------------------------------------- inputs

def _check_image(image) -> np.ndarray:
    """Validate an image array; return it with a channel axis, shape (H, W, C)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a NumPy array (H, W) or (H, W, C), got {type(image).__name__}; "
                        "load files with cv2.imread or edgelab.lineart.read_image")
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"image dtype must be uint8 or uint16, got {image.dtype}; convert it first, "
                        "e.g. (x * 255).round().astype(np.uint8) for floats in [0, 1]")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise ValueError(f"image must have shape (H, W) or (H, W, C), got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty (shape {image.shape}); check that the file was read")
    if image.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"image must have 1 (gray), 2 (gray+alpha), 3 (colour) or 4 (colour+alpha) "
                         f"channels, got {image.shape[2]} (shape {image.shape})")
    return image


def to_8bit(image: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 by rounding ``x / 257`` (so ``257 * v`` maps back to ``v`` exactly)."""
    if image.dtype == np.uint8:
        return image
    return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)


def composite_on_white(image: np.ndarray) -> np.ndarray:
    """Drop the alpha channel of an 8-bit (H, W, 2|4) image by compositing it on white.

    ``out = (c * a + 255 * (255 - a)) / 255``, rounded, in integers (deterministic).
    Images without alpha are returned unchanged.
    """
    if image.shape[2] not in (2, 4):
        return image
    colour = image[:, :, :-1].astype(np.uint32)
    alpha = image[:, :, -1:].astype(np.uint32)
    out = (colour * alpha + 255 * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


def prepare(image: np.ndarray) -> np.ndarray:
    """Validate and normalise: 8-bit, alpha composited on white, shape (H, W, 1|3)."""
    return composite_on_white(to_8bit(_check_image(image)))


# ----------------------------------------------------------------------------- method

@dataclass(frozen=True)
class LineArtSteps:
    """Every intermediate image of the method (all uint8 (H, W)), for figures and tests."""

    gray: np.ndarray
    dilated: np.ndarray
    difference: np.ndarray
    inverted: np.ndarray
    line_art: np.ndarray
    threshold: int | None  # the threshold used (Otsu's choice when none was given)


class LineArtExtractor:
    """Dilate -> subtract -> invert -> threshold, with its settings fixed at construction.

    ``kernel``: odd side of the square dilation kernel (>= 1); ``iterations``: how often
    to dilate; ``threshold``: 0..255 or ``None`` for Otsu (modes ``binary``/``soft``);
    ``mode``: one of :data:`MODES`; ``channel_order``: ``"rgb"`` or ``"bgr"`` for colour
    input; ``backend``: ``"opencv"`` or ``"numpy"`` (same output, see module docstring).
    """

    def __init__(self, kernel: int = 5, iterations: int = 1, threshold: int | None = None,
                 mode: str = "binary", channel_order: str = "rgb", backend: str = "opencv"):
        if isinstance(kernel, bool) or not isinstance(kernel, (int, np.integer)) or kernel < 1 \
                or kernel % 2 == 0:
            raise ValueError(f"kernel must be an odd integer >= 1 (the side of the square dilation "
                             f"kernel, centred on each pixel), got {kernel!r}")
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) \
                or iterations < 1:
            raise ValueError(f"iterations must be an integer >= 1, got {iterations!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if threshold is not None:
            if mode == "gray":
                raise ValueError("mode='gray' is continuous and takes no threshold; use "
                                 "mode='binary' or 'soft' to threshold, or threshold=None")
            if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) \
                    or not 0 <= threshold <= 255:
                raise ValueError(f"threshold must be an integer 0..255 or None (Otsu), got {threshold!r}")
        if channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.kernel, self.iterations = int(kernel), int(iterations)
        self.threshold = None if threshold is None else int(threshold)
        self.mode, self.channel_order, self.backend = mode, channel_order, backend

    def __repr__(self) -> str:
        return (f"LineArtExtractor(kernel={self.kernel}, iterations={self.iterations}, "
                f"threshold={self.threshold}, mode={self.mode!r}, "
                f"channel_order={self.channel_order!r}, backend={self.backend!r})")

    @property
    def max_erased_width(self) -> int:
        """The widest dark stroke (pixels) the dilation paints over, so it comes out whole."""
        return (self.kernel - 1) * self.iterations

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Line art of ``image``: uint8 (H, W), white background, dark lines."""
        return self.steps(image).line_art

    def steps(self, image: np.ndarray) -> LineArtSteps:
        """Run the method and keep every intermediate image."""
        image = prepare(image)
        if self.backend == "opencv":
            return self._steps_opencv(image)
        return self._steps_numpy(image)

    # -- OpenCV
    def _steps_opencv(self, image: np.ndarray) -> LineArtSteps:
        import cv2

        if image.shape[2] == 3:
            code = cv2.COLOR_RGB2GRAY if self.channel_order == "rgb" else cv2.COLOR_BGR2GRAY
            gray = cv2.cvtColor(image, code)
        else:
            gray = np.ascontiguousarray(image[:, :, 0])
        kernel = np.ones((self.kernel, self.kernel), np.uint8)
        dilated = cv2.dilate(gray, kernel, iterations=self.iterations)
        difference = cv2.subtract(dilated, gray)
        inverted = cv2.bitwise_not(difference)
        threshold, line_art = self.threshold, inverted
        if self.mode != "gray":
            flags = cv2.THRESH_BINARY | (cv2.THRESH_OTSU if threshold is None else 0)
            used, paper = cv2.threshold(inverted, threshold or 0, 255, flags)
            threshold = int(used)
            line_art = paper if self.mode == "binary" else cv2.max(inverted, paper)
        return LineArtSteps(gray, dilated, difference, inverted, line_art, threshold)

    # -- plain NumPy
    def _steps_numpy(self, image: np.ndarray) -> LineArtSteps:
        gray = gray_numpy(image, self.channel_order) if image.shape[2] == 3 else image[:, :, 0].copy()
        dilated = gray
        for _ in range(self.iterations):
            dilated = dilate_numpy(dilated, self.kernel)
        difference = dilated - gray  # dilation never darkens: no underflow
        inverted = 255 - difference
        threshold, line_art = self.threshold, inverted
        if self.mode != "gray":
            if threshold is None:
                threshold = otsu_threshold(inverted)
            paper = inverted > threshold
            line_art = np.where(paper, np.uint8(255), np.uint8(0) if self.mode == "binary" else inverted)
            line_art = line_art.astype(np.uint8)
        return LineArtSteps(gray, dilated, difference, inverted, line_art, threshold)


def extract_line_art(image: np.ndarray, kernel: int = 5, iterations: int = 1,
                     threshold: int | None = None, mode: str = "binary", *,
                     channel_order: str = "rgb") -> np.ndarray:
    """Line art of a colour or gray illustration with OpenCV: uint8 (H, W), dark lines on white.

    See the module docstring for the method, the modes and the accepted inputs.
    """
    return LineArtExtractor(kernel, iterations, threshold, mode, channel_order)(image)


def extract_line_art_numpy(image: np.ndarray, kernel: int = 5, iterations: int = 1,
                           threshold: int | None = None, mode: str = "binary", *,
                           channel_order: str = "rgb") -> np.ndarray:
    """The same method in plain NumPy (reference and benchmark); identical output."""
    return LineArtExtractor(kernel, iterations, threshold, mode, channel_order, backend="numpy")(image)


def gray_numpy(image: np.ndarray, channel_order: str = "rgb") -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) uint8 with OpenCV's fixed-point weights and rounding."""
    weights = _GRAY_WEIGHTS_RGB if channel_order == "rgb" else _GRAY_WEIGHTS_RGB[::-1]
    acc = image[:, :, 0].astype(np.uint32) * weights[0]
    acc += image[:, :, 1].astype(np.uint32) * weights[1]
    acc += image[:, :, 2].astype(np.uint32) * weights[2]
    acc += 1 << (_GRAY_SHIFT - 1)
    acc >>= _GRAY_SHIFT
    return acc.astype(np.uint8)


def dilate_numpy(gray: np.ndarray, kernel: int) -> np.ndarray:
    """Gray dilation by a ``kernel`` x ``kernel`` square: a sliding maximum along rows,
    then along columns (a square is separable). Outside the image counts as 0, which never
    wins a maximum, so borders behave like OpenCV's default."""
    r = kernel // 2
    if r == 0:
        return gray.copy()
    h, w = gray.shape
    padded = np.pad(gray, ((0, 0), (r, r)))
    rows = padded[:, 0:w].copy()
    for d in range(1, kernel):
        np.maximum(rows, padded[:, d:d + w], out=rows)
    padded = np.pad(rows, ((r, r), (0, 0)))
    out = padded[0:h].copy()
    for d in range(1, kernel):
        np.maximum(out, padded[d:d + h], out=out)
    return out


def otsu_threshold(gray: np.ndarray) -> int:
    """Otsu's threshold of a uint8 image, computed exactly as OpenCV does (same float
    operations in the same order, so ties break the same way)."""
    hist = np.bincount(gray.ravel(), minlength=256).tolist()
    scale = 1.0 / gray.size
    eps = float(np.finfo(np.float32).eps)
    mu = 0.0
    for i in range(256):
        mu += i * float(hist[i])
    mu *= scale
    mu1 = q1 = 0.0
    max_sigma, best = 0.0, 0
    for i in range(256):
        p_i = hist[i] * scale
        mu1 *= q1
        q1 += p_i
        q2 = 1.0 - q1
        if min(q1, q2) < eps or max(q1, q2) > 1.0 - eps:
            continue
        mu1 = (mu1 + i * p_i) / q1
        mu2 = (mu - q1 * mu1) / q2
        sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2)
        if sigma > max_sigma:
            max_sigma, best = sigma, i
    return best


def checksum(image: np.ndarray) -> str:
    """sha256 of an array's shape, dtype and bytes (a fingerprint for checked outputs)."""
    h = hashlib.sha256(f"{image.shape}|{image.dtype}|".encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()


# ------------------------------------------------------------------- edge maps, to compare

def _gray_for_edges(image: np.ndarray, channel_order: str = "rgb") -> np.ndarray:
    import cv2

    image = prepare(image)
    if image.shape[2] == 1:
        return np.ascontiguousarray(image[:, :, 0])
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY if channel_order == "rgb" else cv2.COLOR_BGR2GRAY)


def canny_lines(image: np.ndarray, low: int = 100, high: int = 200, *,
                channel_order: str = "rgb") -> np.ndarray:
    """Canny edges drawn as line art (dark edges on white), for comparison."""
    import cv2

    return cv2.bitwise_not(cv2.Canny(_gray_for_edges(image, channel_order), low, high))


def sobel_lines(image: np.ndarray, threshold: int | None = None, *,
                channel_order: str = "rgb") -> np.ndarray:
    """Sobel gradient magnitude, thresholded (Otsu if None), drawn as dark lines on white."""
    import cv2

    gray = _gray_for_edges(image, channel_order)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = cv2.convertScaleAbs(cv2.magnitude(gx, gy), alpha=0.25)  # 4 * 255 max -> 255
    return _threshold_strength(magnitude, threshold)


def laplacian_lines(image: np.ndarray, threshold: int | None = None, *,
                    channel_order: str = "rgb") -> np.ndarray:
    """|Laplacian|, thresholded (Otsu if None), drawn as dark lines on white."""
    import cv2

    gray = _gray_for_edges(image, channel_order)
    strength = cv2.convertScaleAbs(cv2.Laplacian(gray, cv2.CV_16S, ksize=3), alpha=0.125)
    return _threshold_strength(strength, threshold)


def _threshold_strength(strength: np.ndarray, threshold: int | None) -> np.ndarray:
    import cv2

    flags = cv2.THRESH_BINARY_INV | (cv2.THRESH_OTSU if threshold is None else 0)
    return cv2.threshold(strength, threshold or 0, 255, flags)[1]


EDGE_METHODS = {"canny": canny_lines, "sobel": sobel_lines, "laplacian": laplacian_lines}
