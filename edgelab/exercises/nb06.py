"""Notebook 06's exercises: line art by dilate, subtract, invert, threshold.

Each checker computes its own reference with :mod:`edgelab.lineart` on the synthetic
illustration (or on an image the exercise fixes), never from the notebook's globals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgelab.exercises.core import ____, Exercise, ExerciseError, Mistake

ONE_STROKE_SHARE = 0.95   # "one stroke per crossing", as section 4 asserts it for dilate-diff
KERNELS = (3, 5, 7, 9)


def _one_stroke_shares(stroke: int) -> dict[int, float]:
    from edgelab import lineart
    from edgelab.lineart import synthetic

    wide = synthetic.draw_illustration(stroke=stroke)
    shares = {}
    for k in KERNELS:
        profile, _ = synthetic.score(lineart.extract_line_art(wide.image, kernel=k), wide)
        shares[k] = profile.share(1)
    return shares


class StrokeWidth(Exercise):
    number = 1
    title = "Stroke width and kernel size"
    answers = ("smallest_kernel",)
    where = "class"
    minutes = 10
    starter = '''
    wide = synthetic.draw_illustration(stroke=5)   # the same scene, outlines 5 pixels wide
    # Score kernels 3, 5, 7 and 9 on `wide` as section 5 does (synthetic.score), then read the table.
    smallest_kernel = ____   # the smallest kernel that draws one stroke at (nearly) every crossing
    '''
    hint = '''
    Loop over the kernels: `_, row = synthetic.score(lineart.extract_line_art(wide.image,
    kernel=k), wide)` and look at "1 stroke (share)", not at the median: a median of 1 only
    says that more than half of the crossings have one stroke. Then compare with
    `lineart.LineArtExtractor(kernel=k).max_erased_width`.
    '''
    solution = '''
    wide = synthetic.draw_illustration(stroke=5)
    sweep5 = {}
    for side in (3, 5, 7, 9):
        art5 = lineart.extract_line_art(wide.image, kernel=side)
        _, sweep5[f"kernel {side}"] = synthetic.score(art5, wide)
    print(pd.DataFrame(sweep5).T[["1 stroke (share)", "thickness (px)"]].round(2))
    smallest_kernel = 7
    '''
    explanation = '''
    A k x k dilation paints over a dark stroke only if the stroke is at most k - 1 pixels
    wide (`max_erased_width`). Kernel 5 erases up to 4 pixels, so 5-pixel strokes keep a dark
    core, whose difference is zero, and come out hollow at about half of the crossings;
    kernel 7 (up to 6 pixels) is the smallest that works. Larger kernels work too but draw
    thicker lines where two colours of different brightness meet. Kernels are odd: the square
    is centred on the pixel.
    '''
    messages = {
        "passed": "right: kernel {kernel} draws one stroke at {share:.0%} of the crossings of the "
                  "5-px outline; it erases strokes up to {erased} px, kernel {smaller} only up to "
                  "{erased_smaller} px",
        "type": "give the kernel as a whole number (the side of the square), not {kind}",
        "even": "kernel {kernel} is even: the dilation square is centred on each pixel, so its side "
                "is odd (edgelab refuses even kernels); try the odd sizes of the sweep",
        "too_small": "kernel {kernel} erases strokes up to {erased} px only: 5-px strokes keep a dark "
                     "core and come out hollow, one stroke at just {share:.0%} of the crossings "
                     "(a median of 1 only means more than half); look at the '1 stroke (share)' column",
        "not_smallest": "kernel {kernel} works ({share:.0%} one stroke), but a smaller one does too: "
                        "the smallest is the first kernel whose square is wider than the stroke",
        "not_swept": "{kernel} is not one of the kernels the exercise sweeps ({kernels})",
    }
    mistakes = [
        Mistake("smallest_kernel = 5", "too_small",
                "read the median strokes per crossing (1) instead of the share with one stroke"),
        Mistake("smallest_kernel = 6", "even", "took 'one more than the stroke' literally"),
        Mistake("smallest_kernel = 9", "not_smallest", "a kernel that works but is not the smallest"),
    ]

    def verify(self, smallest_kernel):
        from edgelab import lineart

        if isinstance(smallest_kernel, bool) or not isinstance(smallest_kernel, (int, np.integer)):
            return self.wrong("type", kind=type(smallest_kernel).__name__)
        k = int(smallest_kernel)
        if k % 2 == 0:
            return self.wrong("even", kernel=k)
        if k not in KERNELS:
            return self.wrong("not_swept", kernel=k, kernels=", ".join(map(str, KERNELS)))
        shares = _one_stroke_shares(5)
        right = min(c for c in KERNELS if shares[c] >= ONE_STROKE_SHARE)
        erased = lineart.LineArtExtractor(kernel=k).max_erased_width
        if k < right:
            return self.wrong("too_small", kernel=k, erased=erased, share=shares[k])
        if k > right:
            return self.wrong("not_smallest", kernel=k, share=shares[k])
        smaller = KERNELS[KERNELS.index(k) - 1]
        return self.passed(kernel=k, share=shares[k], erased=erased, smaller=smaller,
                           erased_smaller=lineart.LineArtExtractor(kernel=smaller).max_erased_width)


class SoftFromFile(Exercise):
    number = 2
    title = "Soft line art from an image file"
    answers = ("my_soft_line_art",)
    where = "class"
    minutes = 15
    starter = """
    def my_soft_line_art(path):
        \"\"\"An image file -> uint8 soft line art: cv2.imread, gray, dilate with a 5x5 square of
        ones, difference, invert; then Otsu's threshold makes the paper white while line pixels
        keep their gray level. OpenCV and NumPy only (not edgelab).\"\"\"
        return ____   # replace with your calls
    """
    hint = """
    cv2.imread returns the channels in BGR order, so the gray conversion is
    cv2.COLOR_BGR2GRAY. cv2.threshold(inverted, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    returns (threshold, paper) with paper 255 above the threshold and 0 below; the soft line
    art is the brighter of the two images at each pixel: np.maximum(inverted, paper).
    """
    solution = """
    def my_soft_line_art(path):
        bgr = cv2.imread(str(path))
        luminance = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        spread = cv2.dilate(luminance, np.ones((5, 5), np.uint8))
        lines_dark = 255 - cv2.subtract(spread, luminance)
        _, paper = cv2.threshold(lines_dark, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        return np.maximum(lines_dark, paper)
    """
    explanation = """
    The five calls are section 2's; two things change with a file. cv2.imread gives BGR, so
    COLOR_RGB2GRAY would weight blue as if it were red (0.299) and red as blue (0.114): a
    slightly different gray, and different lines wherever red and blue differ. And the soft
    mode keeps the anti-aliased look of real line art: Otsu's threshold only decides which
    pixels are paper (made 255); the others keep the inverted difference, so faint and strong
    strokes stay distinguishable, the usual look of colourization training data. The order of
    the subtraction still matters: cv2.subtract(gray, dilated) is never positive and OpenCV
    saturates it at 0, so the result is a blank page (the source's bug).
    """
    messages = {
        "passed": "right: your calls give the lesson's soft line art pixel for pixel on both files "
                  "({levels} gray levels on the drawing; Otsu chose {threshold})",
        "not_array": "my_soft_line_art returned {kind}; return the line-art image (cv2.threshold "
                     "returns a pair: (threshold, image))",
        "no_image": "my_soft_line_art returned None: cv2.imread gives None for a path it cannot "
                    "read; pass it str(path)",
        "dtype": "your line art is {dtype}; keep OpenCV's uint8 images all the way (0..255)",
        "colour": "your line art has {channels} channels: you worked on the colour image. Convert "
                  "to gray first, cv2.cvtColor(image, cv2.COLOR_BGR2GRAY): lines are about "
                  "brightness, and per-channel differences give coloured lines",
        "shape": "your line art has shape {got}; the image is {want}: return one value per pixel",
        "blank": "your line art is a blank white page: the difference is 0 everywhere. "
                 "cv2.subtract(gray, dilated) is never positive and OpenCV saturates it at 0; "
                 "the dilated image is the brighter one: cv2.subtract(dilated, gray)",
        "not_inverted": "your lines are light on a dark page ({dark:.0%} of the pixels are darker "
                        "than 128): invert the difference (255 - difference) before thresholding",
        "rgb_on_bgr": "almost: your gray image treats the file's channels as RGB, but cv2.imread "
                      "returns BGR; use cv2.COLOR_BGR2GRAY",
        "binary": "your line art is binary (0 and 255 only): that is mode='binary'. Keep the line "
                  "pixels' gray level: np.maximum(inverted, paper)",
        "no_threshold": "your paper is not white: that is the inverted difference without a "
                        "threshold (mode='gray'). Otsu's threshold decides which pixels are paper; "
                        "make those 255",
        "kernel": "your line art is the lesson's with a {kernel}x{kernel} square; the exercise "
                  "asks for 5x5 (np.ones((5, 5), np.uint8))",
        "different": "your line art differs from the lesson's on {n} of {total} pixels ({where}); "
                     "compare your intermediate images with lineart.LineArtExtractor(kernel=5, "
                     "mode='soft', channel_order='bgr').steps(cv2.imread(path))",
    }
    mistakes = [
        Mistake("""
def my_soft_line_art(path):
    bgr = cv2.imread(str(path))
    luminance = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    spread = cv2.dilate(luminance, np.ones((5, 5), np.uint8))
    lines_dark = 255 - cv2.subtract(luminance, spread)
    _, paper = cv2.threshold(lines_dark, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return np.maximum(lines_dark, paper)
""", "blank", "the source's swapped cv2.subtract arguments"),
        Mistake("""
def my_soft_line_art(path):
    bgr = cv2.imread(str(path))
    luminance = cv2.cvtColor(bgr, cv2.COLOR_RGB2GRAY)
    spread = cv2.dilate(luminance, np.ones((5, 5), np.uint8))
    lines_dark = 255 - cv2.subtract(spread, luminance)
    _, paper = cv2.threshold(lines_dark, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return np.maximum(lines_dark, paper)
""", "rgb_on_bgr", "section 2's COLOR_RGB2GRAY kept for a BGR image from cv2.imread"),
        Mistake("""
def my_soft_line_art(path):
    bgr = cv2.imread(str(path))
    luminance = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    spread = cv2.dilate(luminance, np.ones((5, 5), np.uint8))
    lines_dark = 255 - cv2.subtract(spread, luminance)
    _, paper = cv2.threshold(lines_dark, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return paper
""", "binary", "returned the thresholded (binary) image"),
        Mistake("""
def my_soft_line_art(path):
    bgr = cv2.imread(str(path))
    spread = cv2.dilate(bgr, np.ones((5, 5), np.uint8))
    return 255 - cv2.subtract(spread, bgr)
""", "colour", "the source's colour dilation, no gray and no threshold"),
    ]

    def _judge(self, fn, path):
        """None if ``fn(path)`` is the lesson's soft line art of that file, else the verdict."""
        import cv2

        from edgelab import lineart

        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        out = fn(path)
        if out is ____ or out is Ellipsis:
            raise ExerciseError("my_soft_line_art still returns ____: replace it with your "
                                "calls, then run the cell again")
        if out is None:
            return self.wrong("no_image")
        if isinstance(out, tuple):
            return self.wrong("not_array", kind="a tuple")
        if not isinstance(out, np.ndarray):
            return self.wrong("not_array", kind=type(out).__name__)
        if out.ndim == 3 and out.shape[2] in (3, 4):
            return self.wrong("colour", channels=out.shape[2])
        if out.shape != image.shape[:2]:
            return self.wrong("shape", got=out.shape, want=image.shape[:2])
        if out.dtype != np.uint8:
            return self.wrong("dtype", dtype=out.dtype)
        soft = lambda **kw: lineart.LineArtExtractor(**{"kernel": 5, "mode": "soft",  # noqa: E731
                                                        "channel_order": "bgr", **kw})(image)
        want = soft()
        if np.array_equal(out, want):
            return None
        if (out == 255).all():
            return self.wrong("blank")
        if np.mean(out < 128) > 0.5:
            return self.wrong("not_inverted", dark=float(np.mean(out < 128)))
        if np.array_equal(out, soft(channel_order="rgb")):
            return self.wrong("rgb_on_bgr")
        if np.array_equal(out, soft(mode="binary")) or np.array_equal(
                out, soft(mode="binary", channel_order="rgb")):
            return self.wrong("binary")
        if np.array_equal(out, soft(mode="gray")):
            return self.wrong("no_threshold")
        for k in (3, 7, 9):
            if np.array_equal(out, soft(kernel=k)):
                return self.wrong("kernel", kernel=k)
        diff = out != want
        ys, xs = np.nonzero(diff)
        return self.wrong("different", n=int(diff.sum()), total=diff.size,
                          where=f"rows {ys.min()}-{ys.max()}, columns {xs.min()}-{xs.max()}")

    def verify(self, my_soft_line_art):
        import tempfile

        import cv2

        from edgelab import lineart
        from edgelab.lineart import synthetic

        if not callable(my_soft_line_art):
            return self.wrong("not_array", kind=f"{type(my_soft_line_art).__name__} "
                              "(my_soft_line_art should be a function)")
        drawing = synthetic.draw_illustration().image
        with tempfile.TemporaryDirectory() as tmp:
            files = [Path(tmp) / "drawing.png"]
            cv2.imwrite(str(files[0]), cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR))
            try:
                from edgelab.datasets import samples

                files.append(Path(tmp) / "cat.png")
                cv2.imwrite(str(files[1]), cv2.cvtColor(samples.load_image("chelsea.png"),
                                                        cv2.COLOR_RGB2BGR))
            except Exception:  # noqa: BLE001 - the photo is a second check, not required
                files = files[:1]
            for path in files:
                verdict = self._judge(my_soft_line_art, path)
                if verdict is not None:
                    return verdict
        steps = lineart.LineArtExtractor(kernel=5, mode="soft").steps(drawing)
        return self.passed(levels=len(np.unique(steps.line_art)), threshold=steps.threshold)


class InklessBoundary(Exercise):
    number = 3
    title = "A colour boundary without ink"
    answers = ("line_side", "line_width", "line_value")
    where = "class"
    minutes = 10
    starter = '''
    two_tone = np.full((64, 64), 200, np.uint8)
    two_tone[:, :32] = 100            # a dark left half meets a light right half; no ink anywhere
    steps3 = lineart.LineArtExtractor(kernel=5, mode="gray").steps(two_tone)
    print(steps3.inverted[32, 24:40])  # one row across the boundary (columns 24..39)
    line_side = ____    # "dark" or "light": on which side of the boundary is the line?
    line_width = ____   # how many pixels wide is it?
    line_value = ____   # its gray level in the inverted image (0 is black, 255 is paper)
    '''
    hint = '''
    Dilation is a running maximum: near the boundary the light colour's 200 spreads over the
    dark pixels, but only as far as the square reaches from each pixel (kernel // 2). The
    difference is dilated - gray there, and the inverted image is 255 minus that.
    '''
    solution = '''
    two_tone = np.full((64, 64), 200, np.uint8)
    two_tone[:, :32] = 100
    steps3 = lineart.LineArtExtractor(kernel=5, mode="gray").steps(two_tone)
    row = steps3.inverted[32]
    line = np.flatnonzero(row < 255)           # columns 30 and 31: left of the boundary at 32
    line_side = "dark" if line.max() < 32 else "light"
    line_width = len(line)
    line_value = int(row[line[0]])
    '''
    explanation = '''
    The dilation spreads the lighter colour kernel // 2 = 2 pixels into the darker region;
    there the difference is the brightness step (200 - 100 = 100), so the inverted image shows
    a line of 255 - 100 = 155 on the dark side, 2 pixels wide. The line's darkness is the
    brightness difference of the two colours: two colours of equal brightness (red and green
    of the same gray) give no line at all, and a small step gives a faint line that Otsu's
    threshold may drop. This is why a colour illustration's line art also has lines where
    colours meet without ink, and why they sit on the darker colour's side.
    '''
    messages = {
        "passed": "right: a {width}-pixel line of gray {value} on the dark side; the light colour "
                  "spreads kernel // 2 = {width} pixels over the dark one, and 255 - (200 - 100) = {value}",
        "side_value": "line_side should be \"dark\" or \"light\", not {got!r}",
        "side": "the line is on the dark side: the dilation (a running maximum) spreads the light "
                "colour over the dark pixels next to the boundary, not the other way round",
        "width": "the line is {want} pixels wide, not {got}: from each dark pixel the 5x5 square "
                 "reaches kernel // 2 = {want} pixels, so only the {want} columns nearest the "
                 "boundary see the light colour",
        "value": "the inverted image shows {want} there, not {got}: the difference is 200 - 100 = "
                 "100, and the inverted image is 255 - difference",
    }
    mistakes = [
        Mistake('line_side, line_width, line_value = "light", 2, 155', "side",
                "thought the bright colour gets the line"),
        Mistake('line_side, line_width, line_value = "dark", 5, 155', "width",
                "took the kernel's side as the line's width"),
        Mistake('line_side, line_width, line_value = "dark", 2, 100', "value",
                "gave the difference, not the inverted image"),
    ]

    def verify(self, line_side, line_width, line_value):
        from edgelab import lineart

        two_tone = np.full((64, 64), 200, np.uint8)
        two_tone[:, :32] = 100
        row = lineart.LineArtExtractor(kernel=5, mode="gray").steps(two_tone).inverted[32]
        line = np.flatnonzero(row < 255)
        side = "dark" if line.max() < 32 else "light"
        width, value = len(line), int(row[line[0]])
        if not isinstance(line_side, str) or line_side.strip().lower() not in ("dark", "light"):
            return self.wrong("side_value", got=line_side)
        if line_side.strip().lower() != side:
            return self.wrong("side")
        if int(line_width) != width:
            return self.wrong("width", want=width, got=line_width)
        if int(line_value) != value:
            return self.wrong("value", want=value, got=line_value)
        return self.passed(width=width, value=value)


class OwnDataset(Exercise):
    number = 4
    title = "Your own pairs, read by notebook 04's TSV data set"
    answers = ("lineart_ds", "colour_ds")
    where = "home"
    minutes = 15
    starter = '''
    my_pairs = lab.out / "my_pairs"
    # 1. Build pairs from a folder of your own photos (no photos at hand? use section 9's
    #    src_dir), in a terminal or in a cell that starts with "!":
    #        edgelab lineart <your folder> <my_pairs> --pairs --max-side 256
    # 2. Read both halves with notebook 04's data set, one image per row of each index:
    from edgelab.chainer import datasets as chainer_datasets
    lineart_ds = ____   # chainer_datasets.TsvImageDataset over my_pairs / "lineart.tsv" (line art is gray)
    colour_ds = ____    # ... and over my_pairs / "colour.tsv"
    '''
    hint = '''
    TsvImageDataset(tsv, channels=...) reads `file<TAB>label` rows; channels=1 for the gray
    line art, 3 for colour. Row i of lineart.tsv and row i of colour.tsv are the two halves of
    one pair (the same label, the source image's id). pairs.tsv is the human-readable index
    with a header, not a TSV data set.
    '''
    solution = '''
    import subprocess, sys
    my_pairs = lab.out / "my_pairs"
    # the same as the cell  !edgelab lineart {src_dir} {my_pairs} --pairs --max-side 256 --force
    subprocess.run([sys.executable, "-m", "edgelab", "lineart", str(src_dir), str(my_pairs),
                    "--pairs", "--max-side", "256", "--force", "--no-progress"], check=True)
    from edgelab.chainer import datasets as chainer_datasets
    lineart_ds = chainer_datasets.TsvImageDataset(my_pairs / "lineart.tsv", channels=1)
    colour_ds = chainer_datasets.TsvImageDataset(my_pairs / "colour.tsv", channels=3)
    '''
    explanation = '''
    The batch tool writes the line art and the exact colour image it came from under the same
    id, and two plain `file<TAB>label` indexes in the format notebook 04's TsvImageDataset
    reads, so a colourization model's input (line art, one channel) and target (colour, three)
    are two data sets whose example i belong together. Zip them (or a TupleDataset of the two)
    and an iterator yields (line art, colour) pairs.
    '''
    messages = {
        "passed": "right: {n} pairs; example 0 is line art {lshape} and colour {cshape}, both "
                  "labelled {label}",
        "not_dataset": "{name} is {kind}; build it with chainer_datasets.TsvImageDataset(path, "
                       "channels=...)",
        "same_index": "both data sets read {tsv}: lineart_ds should read lineart.tsv and colour_ds "
                      "colour.tsv",
        "swapped": "lineart_ds reads {ltsv} and colour_ds reads {ctsv}: the other way round",
        "wrong_index": "{name} reads {tsv}; the pair builder's data-set indexes are lineart.tsv "
                       "and colour.tsv (pairs.tsv has a header and four columns)",
        "lengths": "lineart_ds has {nl} rows and colour_ds {nc}: they come from different folders",
        "labels": "row {i} of the two data sets has labels {a} and {b}: they are not the two "
                  "halves of the same pairs (read both indexes from one folder)",
        "lineart_channels": "your line-art images have {c} channels: line art is gray, read it "
                            "with channels=1",
        "colour_channels": "your colour images have {c} channel(s): read colour.tsv with channels=3",
        "sizes": "example 0's line art is {lshape} and its colour image {cshape}: a pair should "
                 "have the same height and width",
    }
    mistakes = [
        Mistake('''
import subprocess, sys
my_pairs = lab.out / "my_pairs"
subprocess.run([sys.executable, "-m", "edgelab", "lineart", str(src_dir), str(my_pairs),
                "--pairs", "--max-side", "256", "--force", "--no-progress"], check=True)
from edgelab.chainer import datasets as chainer_datasets
lineart_ds = chainer_datasets.TsvImageDataset(my_pairs / "lineart.tsv")
colour_ds = chainer_datasets.TsvImageDataset(my_pairs / "colour.tsv")
''', "lineart_channels", "kept the default channels=3 for the gray line art"),
        Mistake('''
import subprocess, sys
my_pairs = lab.out / "my_pairs"
subprocess.run([sys.executable, "-m", "edgelab", "lineart", str(src_dir), str(my_pairs),
                "--pairs", "--max-side", "256", "--force", "--no-progress"], check=True)
from edgelab.chainer import datasets as chainer_datasets
lineart_ds = chainer_datasets.TsvImageDataset(my_pairs / "lineart.tsv", channels=1)
colour_ds = chainer_datasets.TsvImageDataset(my_pairs / "lineart.tsv", channels=3)
''', "same_index", "copied the line-art line and forgot to change the index"),
    ]

    def verify(self, lineart_ds, colour_ds):
        for name, ds in (("lineart_ds", lineart_ds), ("colour_ds", colour_ds)):
            if not (hasattr(ds, "get_example") and hasattr(ds, "__len__") and hasattr(ds, "tsv")):
                return self.wrong("not_dataset", name=name, kind=type(ds).__name__)
        ltsv, ctsv = Path(lineart_ds.tsv), Path(colour_ds.tsv)
        if ltsv.resolve() == ctsv.resolve():
            return self.wrong("same_index", tsv=ltsv.name)
        if (ltsv.name, ctsv.name) == ("colour.tsv", "lineart.tsv"):
            return self.wrong("swapped", ltsv=ltsv.name, ctsv=ctsv.name)
        for name, tsv, want in (("lineart_ds", ltsv, "lineart.tsv"), ("colour_ds", ctsv, "colour.tsv")):
            if tsv.name != want:
                return self.wrong("wrong_index", name=name, tsv=tsv.name)
        if len(lineart_ds) != len(colour_ds) or len(lineart_ds) == 0:
            return self.wrong("lengths", nl=len(lineart_ds), nc=len(colour_ds))
        la, ca = np.asarray(lineart_ds.labels), np.asarray(colour_ds.labels)
        if not np.array_equal(la, ca):
            i = int(np.flatnonzero(la != ca)[0])
            return self.wrong("labels", i=i, a=la[i], b=ca[i])
        line, label = lineart_ds.get_example(0)
        colour, _ = colour_ds.get_example(0)
        line, colour = np.asarray(line), np.asarray(colour)
        if line.shape[0] != 1:
            return self.wrong("lineart_channels", c=line.shape[0])
        if colour.shape[0] != 3:
            return self.wrong("colour_channels", c=colour.shape[0])
        if line.shape[1:] != colour.shape[1:]:
            return self.wrong("sizes", lshape=line.shape, cshape=colour.shape)
        return self.passed(n=len(lineart_ds), lshape=tuple(line.shape), cshape=tuple(colour.shape),
                           label=int(label))
