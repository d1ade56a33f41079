"""The line-art batch tool: a folder (or one file) of images in, PNG line art out.

``edgelab lineart SRC DEST`` converts a folder (recursively) or a single file.

* Without ``--pairs``: ``SRC/a/b.jpg`` becomes ``DEST/a/b.png`` (always PNG: JPEG
  would blur the lines; ``a.jpg`` and ``a.png`` side by side become ``a_jpg.png`` and
  ``a_png.png``). With a single-file SRC, a DEST ending in an image suffix is the output
  file (written as PNG, suffix ``.png``); otherwise DEST is a folder.
* With ``--pairs`` (:func:`build_pairs`): a colourization data set in DEST::

      DEST/lineart/00003_cat.png    line art (input of a colourization model)
      DEST/colour/00003_cat.png     the colour image it was made from, same size (target)
      DEST/pairs.tsv                header "lineart<TAB>colour<TAB>id<TAB>source", one row per pair
      DEST/lineart.tsv              "lineart/00003_cat.png<TAB>3"  (file<TAB>label, no header)
      DEST/colour.tsv               "colour/00003_cat.png<TAB>3"   (file<TAB>label, no header)

  The integer ``id`` is the source image's position in the sorted list of sources, so it
  identifies the source image; ``lineart.tsv`` and ``colour.tsv`` are in the
  ``file<TAB>label`` form that notebook 04's TSV data set reads (paths relative to the
  TSV's folder), and row *i* of one matches row *i* of the other (same label). The colour
  file is the exact image the line art was computed from (alpha composited on white,
  8-bit, resized by ``--max-side`` if given), re-encoded losslessly as PNG.

Rules of the batch tool: every file is written atomically (temporary name, then rename);
nothing is overwritten without ``--force``: all destinations are checked before anything
is written and the first existing one is named. Files that cannot be decoded (or are not
8/16-bit images with 1-4 channels) are skipped and listed at the end; files without an
image suffix, hidden files and anything already inside DEST are ignored. Exit status: 0
when at least one image was written (even if
some were skipped), 1 when nothing could be processed or an existing file blocked the
run, 2 for bad arguments.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from edgelab.lineart.extract import MODES, LineArtExtractor, _check_image, prepare

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
INDEX_FILES = ("pairs.tsv", "lineart.tsv", "colour.tsv")


# ----------------------------------------------------------------------------- files

class UnreadableImage(ValueError):
    """A file that is not an image OpenCV can decode into an 8/16-bit 1-4 channel array."""


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file unchanged (BGR/BGRA/gray, 8 or 16 bit); raise UnreadableImage."""
    import cv2

    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise UnreadableImage(f"{path}: cannot read ({exc.strerror or exc})") from None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise UnreadableImage(f"{path}: not an image OpenCV can decode")
    try:
        _check_image(image)
    except (TypeError, ValueError) as exc:
        raise UnreadableImage(f"{path}: {exc}") from None
    return image


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write ``image`` (OpenCV channel order) as PNG, atomically."""
    import cv2

    from edgelab.core.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), image):
            raise OSError(f"{path}: OpenCV could not write this PNG")
    return path


def limit_size(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Shrink (never enlarge) so the longer side is at most ``max_side`` (area filter)."""
    import cv2

    if max_side is None:
        return image
    if isinstance(max_side, bool) or not isinstance(max_side, (int, np.integer)) or max_side < 1:
        raise ValueError(f"max_side must be a positive integer or None, got {max_side!r}")
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def find_images(src: str | Path, exclude: str | Path | None = None) -> tuple[list[Path], int]:
    """Image files under ``src`` (a folder, searched recursively, or one file), sorted;
    and the number of other files ignored. Hidden files and folders are skipped, and so is
    everything under ``exclude`` (the output folder, when it lies inside ``src``)."""
    src = Path(src)
    skip = Path(exclude).resolve() if exclude is not None else None
    if src.is_file():
        return [src], 0
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such file or folder")
    images, ignored = [], 0
    for p in sorted(src.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(src).parts):
            continue
        if skip is not None and p.resolve().is_relative_to(skip):
            continue
        if p.suffix.lower() in IMAGE_SUFFIXES:
            images.append(p)
        else:
            ignored += 1
    return images, ignored


@dataclass
class BatchResult:
    """What a batch run did: files written, sources skipped (with the reason), files ignored."""

    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    ignored: int = 0
    pairs: list[tuple[Path, Path, int]] = field(default_factory=list)  # (line art, colour, id)

    def summary(self) -> str:
        text = f"wrote {len(self.written)} file(s)"
        if self.pairs:
            text += f" ({len(self.pairs)} pairs)"
        if self.skipped:
            text += f", skipped {len(self.skipped)} unreadable file(s)"
        if self.ignored:
            text += f", ignored {self.ignored} non-image file(s)"
        return text


def _refuse_existing(targets: Iterable[Path], force: bool) -> None:
    if force:
        return
    existing = [t for t in targets if t.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise FileExistsError(f"{existing[0]} already exists{more}; nothing was written. "
                              "Use --force (force=True) to overwrite, or choose another DEST.")


def _plain_targets(sources: Sequence[Path], src: Path, dest: Path) -> list[Path]:
    if src.is_file():
        if dest.suffix.lower() in IMAGE_SUFFIXES:
            return [dest.with_suffix(".png")]
        return [dest / f"{src.stem}.png"]
    targets = [dest / p.relative_to(src).with_suffix(".png") for p in sources]
    seen: dict[Path, int] = {}
    for t in targets:
        seen[t] = seen.get(t, 0) + 1
    # a.jpg and a.png in one folder: keep both, with the source suffix in the name
    return [t.with_name(f"{p.stem}_{p.suffix.lstrip('.').lower()}.png") if seen[t] > 1 else t
            for p, t in zip(sources, targets)]


def _progress(items, progress: bool, desc: str):
    from edgelab.core.progress import bar

    return bar(items, desc=desc, unit="img", disable=not progress, leave=False)


def convert(src: str | Path, dest: str | Path, extractor: LineArtExtractor | None = None, *,
            force: bool = False, max_side: int | None = None, progress: bool = True) -> BatchResult:
    """Write the line art of every image under ``src`` (folder or file) into ``dest``.

    Layout and rules: see the module docstring. Raises FileExistsError (before writing
    anything) if a destination exists and ``force`` is False.
    """
    src, dest = Path(src), Path(dest)
    extractor = _bgr(extractor)
    sources, ignored = find_images(src, exclude=dest)
    targets = _plain_targets(sources, src, dest)
    _refuse_existing(targets, force)
    result = BatchResult(ignored=ignored)
    for source, target in zip(_progress(sources, progress, "line art"), targets):
        try:
            image = limit_size(prepare(read_image(source)), max_side)
        except UnreadableImage as exc:
            result.skipped.append((source, str(exc).removeprefix(f"{source}: ")))
            continue
        result.written.append(write_png(target, extractor(image)))
    return result


def _bgr(extractor: LineArtExtractor | None) -> LineArtExtractor:
    """Files are read in OpenCV's BGR order: the same extractor settings, BGR input."""
    e = extractor or LineArtExtractor()
    return LineArtExtractor(e.kernel, e.iterations, e.threshold, e.mode, "bgr", e.backend)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _pair_name(index: int, source: Path) -> str:
    stem = _UNSAFE.sub("_", source.stem).strip("_") or "image"
    return f"{index:05d}_{stem}.png"


def build_pairs(src: str | Path | Sequence[str | Path], dest: str | Path,
                extractor: LineArtExtractor | None = None, *, force: bool = False,
                max_side: int | None = None, progress: bool = True) -> BatchResult:
    """Write (line art, colour) pairs and their index TSVs into ``dest``.

    ``src`` is a folder (searched recursively), one image file, or a list of image files.
    Layout of ``dest`` and the index format: see the module docstring.
    """
    dest = Path(dest)
    if isinstance(src, (str, Path)):
        sources, ignored = find_images(src, exclude=dest)
        base = Path(src) if Path(src).is_dir() else None
    else:
        sources, ignored, base = [Path(p) for p in src], 0, None
    names = [_pair_name(i, p) for i, p in enumerate(sources)]
    targets = [dest / n for n in INDEX_FILES]
    targets += [dest / sub / n for n in names for sub in ("lineart", "colour")]
    _refuse_existing(targets, force)
    extractor = _bgr(extractor)
    result = BatchResult(ignored=ignored)
    rows = []
    for i, (source, name) in enumerate(zip(_progress(sources, progress, "pairs"), names)):
        try:
            colour = limit_size(prepare(read_image(source)), max_side)
        except UnreadableImage as exc:
            result.skipped.append((source, str(exc).removeprefix(f"{source}: ")))
            continue
        line_path = write_png(dest / "lineart" / name, extractor(colour))
        colour_path = write_png(dest / "colour" / name, colour)
        result.written += [line_path, colour_path]
        result.pairs.append((line_path, colour_path, i))
        shown = source.relative_to(base) if base is not None else source.resolve()
        rows.append((f"lineart/{name}", f"colour/{name}", i, re.sub(r"[\t\r\n]", " ", str(shown))))
    if rows:
        _write_index(dest, rows)
    return result


def _write_index(dest: Path, rows: list[tuple[str, str, int, str]]) -> None:
    from edgelab.core.atomic import atomic_write

    with atomic_write(dest / "pairs.tsv", encoding="utf-8", newline="\n") as f:
        f.write("lineart\tcolour\tid\tsource\n")
        f.writelines(f"{a}\t{b}\t{i}\t{s}\n" for a, b, i, s in rows)
    with atomic_write(dest / "lineart.tsv", encoding="utf-8", newline="\n") as f:
        f.writelines(f"{a}\t{i}\n" for a, _, i, _ in rows)
    with atomic_write(dest / "colour.tsv", encoding="utf-8", newline="\n") as f:
        f.writelines(f"{b}\t{i}\n" for _, b, i, _ in rows)


def read_pairs(folder: str | Path) -> list[tuple[Path, Path, int]]:
    """The pairs listed in ``folder/pairs.tsv``: (line-art path, colour path, id)."""
    folder = Path(folder)
    index = folder / "pairs.tsv"
    if not index.is_file():
        raise FileNotFoundError(f"{index}: no pair index here; build one with build_pairs or "
                                "`edgelab lineart SRC DEST --pairs`")
    lines = index.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t")[:3] != ["lineart", "colour", "id"]:
        raise ValueError(f"{index}: missing header 'lineart<TAB>colour<TAB>id<TAB>source'")
    pairs = []
    for n, line in enumerate(lines[1:], start=2):
        cols = line.split("\t")
        if len(cols) < 3 or not cols[2].isdigit():
            raise ValueError(f"{index}, line {n}: expected lineart<TAB>colour<TAB>id<TAB>source")
        pairs.append((folder / cols[0], folder / cols[1], int(cols[2])))
    return pairs


# ----------------------------------------------------------------------------- CLI

LINEART_EXAMPLES = """examples:
  edgelab lineart photo.jpg photo_lineart.png        one image -> one PNG
  edgelab lineart photos/ lineart/                   a folder (recursively) -> a folder of PNGs
  edgelab lineart photos/ pairs/ --pairs --max-side 512    line-art/colour pairs + TSV indexes
  edgelab lineart photos/ lineart/ --mode soft --kernel 3 --force"""


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "lineart", help="extract line art from images (folder or file); --pairs for a "
                        "colourization data set",
        description="Dilate -> subtract -> invert -> threshold: one dark line per stroke on "
                    "white. Writes PNGs atomically, never overwrites without --force, skips "
                    "and lists unreadable files (exit 1 only if nothing could be processed).",
        epilog=LINEART_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", type=Path, metavar="SRC",
                   help="an image file or a folder (searched recursively)")
    p.add_argument("dest", type=Path, metavar="DEST",
                   help="output folder (created if needed), or an output .png for a single file")
    p.add_argument("--kernel", type=int, default=5, help="odd side of the dilation square (default 5)")
    p.add_argument("--iterations", type=int, default=1, help="dilation iterations (default 1)")
    p.add_argument("--threshold", type=int, default=None,
                   help="0..255; pixels at or below it are lines (default: Otsu per image)")
    p.add_argument("--mode", choices=MODES, default="binary",
                   help="binary (0/255), soft (gray lines, white paper) or gray (no threshold)")
    p.add_argument("--max-side", type=int, default=None,
                   help="shrink images so the longer side is at most this many pixels")
    p.add_argument("--pairs", action="store_true",
                   help="write lineart/, colour/, pairs.tsv, lineart.tsv, colour.tsv into DEST")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cli)


def _dest_problem(src: Path, dest: Path, pairs: bool) -> str | None:
    """Why ``dest`` cannot take what ``src`` gives (None: it can)."""
    single = src.is_file() and not pairs
    suffix = dest.suffix.lower()
    if single and suffix in IMAGE_SUFFIXES and suffix != ".png":
        return (f"DEST {dest}: line art is written as PNG (lossless, so the lines stay sharp); "
                f"name it {dest.with_suffix('.png')}")
    if dest.is_file() and not (single and suffix == ".png"):
        folder = f"{dest.with_suffix('')}_lineart/"
        if single:
            return (f"DEST {dest} is an existing file that is not a .png; give an output .png "
                    f"(e.g. {src.stem}_lineart.png) or a folder (e.g. {folder})")
        why = "--pairs writes a folder" if pairs else "a folder of images needs an output folder"
        return f"DEST {dest} is an existing file, and {why}; pass a folder name, e.g. {folder}"
    if pairs and suffix in IMAGE_SUFFIXES:
        return f"DEST {dest}: --pairs writes a folder; pass a folder name, e.g. {dest.with_suffix('')}/"
    return None


def _cli(args) -> int:
    from edgelab.core.paths import shown

    def as_given(path) -> str:
        return shown(path) if Path(path).is_absolute() else str(path)

    try:
        extractor = LineArtExtractor(args.kernel, args.iterations, args.threshold, args.mode)
        if args.max_side is not None and args.max_side < 1:
            raise ValueError(f"--max-side must be a positive integer, got {args.max_side}")
    except ValueError as exc:
        print(f"edgelab lineart: error: {exc}", file=sys.stderr)
        return 2
    if not args.src.exists():
        print(f"edgelab lineart: SRC {as_given(args.src)}: no such file or folder; give an "
              "image or a folder of images", file=sys.stderr)
        return 2
    problem = _dest_problem(args.src, args.dest, args.pairs)
    if problem:
        print(f"edgelab lineart: {problem}", file=sys.stderr)
        return 2
    run = build_pairs if args.pairs else convert
    try:
        result = run(args.src, args.dest, extractor, force=args.force, max_side=args.max_side,
                     progress=not args.no_progress)
    except (FileExistsError, FileNotFoundError) as exc:
        print(f"edgelab lineart: {_shown_message(exc, args)}", file=sys.stderr)
        return 1
    for path, reason in result.skipped:
        print(f"skipped {as_given(path)}: {reason}", file=sys.stderr)
    index = f"; index: {as_given(args.dest / 'lineart.tsv')}" if result.pairs else ""
    print(result.summary() + index)
    if not result.written:
        print(f"edgelab lineart: no image could be processed in {as_given(args.src)}",
              file=sys.stderr)
        return 1
    return 0


def _shown_message(exc: Exception, args) -> str:
    """An error's text with the absolute SRC and DEST prefixes shortened (see paths.shown)."""
    from edgelab.core.paths import shown

    text = str(exc)
    for path in (args.dest, args.src):
        if Path(path).is_absolute():
            text = text.replace(str(path), shown(path))
    return text
