"""Image data sets for Chainer from a ``file<TAB>label`` list, decoded lazily, one example at a time.

Why this module exists
----------------------
Chainer's data side is small: a *dataset* is anything with ``__len__`` and ``__getitem__``
(:class:`chainer.dataset.DatasetMixin` turns a ``get_example(i)`` into both, slices
included); an *iterator* (``SerialIterator``, ``MultiprocessIterator``) turns it into
batches of examples; a *converter* (``concat_examples``) stacks a batch into arrays on a
device. :class:`TsvImageDataset` is the dataset of that trio for images on disk: it keeps
only the list of files and labels in memory and decodes an image when an example is asked
for, so a data set far larger than memory trains just as well, and ``MultiprocessIterator``
can decode in parallel.

The TSV format
--------------
One example per line, ``file<TAB>label``, no header, UTF-8::

    train/3/00007.png<TAB>3
    /data/flowers/jpg/image_0001.jpg<TAB>0

* ``label`` is a (possibly negative) integer; it is returned as ``int32``.
* ``file`` is either **absolute**, or **relative to the folder the TSV is in** (not to the
  working directory), so a folder of images with its TSV can be moved or copied as a
  whole. :func:`write_tsv` writes a file relative when it lies inside the TSV's folder and
  absolute otherwise.
* Blank lines are ignored; every other line must have exactly two tab-separated fields.

Errors name the TSV, the 1-based line ("row") and the file, and say what to do. The
label and the column count are checked when the TSV is read; ``check_files=True`` (the
default) also checks that every file exists, which costs one ``stat`` per row and catches
a bad path before training starts instead of hours into it. Whether an image *decodes*
can only be known by decoding it, so that error comes from ``get_example``.

Images come back as ``float32`` arrays of shape ``(C, H, W)`` (Chainer's channel-first
layout) scaled to ``[0, 1]``, RGB for ``channels=3``, gray for ``channels=1``, optionally
resized to ``size``. Decoding uses OpenCV (``cv2.imread``).

Writers
-------
* :func:`write_tsv`: any list of files and labels, atomically.
* :func:`write_flowers17_tsv`: one Flower17 split (files and labels from
  :func:`edgelab.datasets.flowers17.load`, not recomputed).
* :func:`write_image_folder_tsv`: a class-per-folder tree ``ROOT/<label>/<name>.png``.
* :func:`export_mnist_images`: MNIST arrays to such a tree of PNG files (each written
  atomically, files already there are kept, so a re-run writes nothing new) plus its TSV.
"""

from __future__ import annotations

import os
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from edgelab.chainer.compat import chainer

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


class TsvDatasetError(ValueError):
    """A bad TSV or a bad row in it; the message names the TSV, the row and the file."""


@dataclass(frozen=True)
class Row:
    """One example of a TSV: its 1-based line number, the file as written, its resolved path."""

    line: int
    name: str
    path: Path
    label: int


def _size_pair(size) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be None, an int or (height, width), got {size!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return h, w


def read_tsv(tsv: str | os.PathLike, *, check_files: bool = True) -> list[Row]:
    """Parse a ``file<TAB>label`` TSV into rows, checking every row (see the module docstring)."""
    tsv = Path(tsv)
    try:
        text = tsv.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TsvDatasetError(f"{tsv}: no such TSV file; write one with write_tsv() or one of "
                              "the write_*_tsv helpers.") from None
    except UnicodeDecodeError as err:
        raise TsvDatasetError(f"{tsv}: not a UTF-8 text file ({err}).") from None
    base = Path(os.path.abspath(tsv)).parent
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise TsvDatasetError(f"{tsv}, row {line_no}: expected 'file<TAB>label', got "
                                  f"{len(fields)} tab-separated field(s): {line[:80]!r}.")
        name, label_text = fields[0].strip(), fields[1].strip()
        if not name:
            raise TsvDatasetError(f"{tsv}, row {line_no}: the file name is empty.")
        try:
            label = int(label_text)
        except ValueError:
            raise TsvDatasetError(f"{tsv}, row {line_no}, file {name}: label {label_text!r} is "
                                  "not an integer; labels are class numbers (0, 1, 2, ...)."
                                  ) from None
        path = Path(name)
        path = path if path.is_absolute() else base / path
        if check_files and not path.is_file():
            raise TsvDatasetError(f"{tsv}, row {line_no}, file {name}: no such file ({path}); "
                                  "relative names are resolved against the TSV's folder.")
        rows.append(Row(line_no, name, path, label))
    if not rows:
        raise TsvDatasetError(f"{tsv}: the TSV has no rows; expected lines 'file<TAB>label'.")
    return rows


class TsvImageDataset(chainer.dataset.DatasetMixin):
    """Images listed in a ``file<TAB>label`` TSV, decoded lazily in ``get_example``.

    ``channels``: 3 (RGB) or 1 (gray). ``size``: ``None`` (keep each image's size; batching
    then needs equal sizes), an int (square) or ``(height, width)``. ``dtype``: of the image.
    """

    def __init__(self, tsv: str | os.PathLike, *, channels: int = 3, size=None,
                 dtype=np.float32, check_files: bool = True):
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (gray) or 3 (RGB), got {channels!r}")
        self.tsv = Path(tsv)
        self.channels = channels
        self.size = _size_pair(size)
        self.dtype = np.dtype(dtype)
        self.rows = read_tsv(self.tsv, check_files=check_files)
        self._labels = np.array([r.label for r in self.rows], dtype=np.int32)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def labels(self) -> np.ndarray:
        """All labels (int32), read from the TSV: no image is decoded."""
        return self._labels

    @property
    def files(self) -> list[Path]:
        return [r.path for r in self.rows]

    def _error(self, i: int, what: str) -> TsvDatasetError:
        r = self.rows[i]
        return TsvDatasetError(f"{self.tsv}, row {r.line}, file {r.name}: {what}")

    def load_image(self, i: int) -> np.ndarray:
        """Decode image ``i``: uint8 ``(H, W, C)`` RGB or gray, resized if ``size`` is set."""
        import cv2

        path = self.rows[i].path
        if not path.is_file():
            raise self._error(i, f"no such file ({path}); was it moved or deleted after the "
                                 "TSV was written?")
        flag = cv2.IMREAD_GRAYSCALE if self.channels == 1 else cv2.IMREAD_COLOR
        image = cv2.imread(str(path), flag)
        if image is None:
            raise self._error(i, f"OpenCV cannot decode {path} (corrupt, truncated or not an "
                                 "image); replace the file or remove its row.")
        if self.channels == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        if self.size is not None and image.shape[:2] != self.size:
            h, w = self.size
            shrink = h < image.shape[0] or w < image.shape[1]
            image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink
                               else cv2.INTER_LINEAR)
        return image if image.ndim == 3 else image[:, :, None]

    def get_example(self, i):
        image = self.load_image(i)
        x = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=self.dtype)
        x *= self.dtype.type(1.0 / 255.0)
        return x, self._labels[i]

    def preload(self, *, progress: bool = False) -> chainer.datasets.TupleDataset:
        """Decode every image now (the *eager* alternative): a ``TupleDataset`` of two arrays.

        Fast to index afterwards, but holds ``len(self) * C * H * W`` floats in memory.
        Needs ``size`` (or images of one size) so that the images stack into one array.
        """
        from edgelab.core.progress import bar as tqdm

        first, _ = self.get_example(0)
        images = np.empty((len(self),) + first.shape, dtype=self.dtype)
        for i in tqdm(range(len(self)), desc="decoding", unit="img", leave=False,
                      mininterval=2.0, disable=not progress):
            x, _ = self.get_example(i)
            if x.shape != first.shape:
                raise self._error(i, f"decodes to shape {x.shape}, not {first.shape} like row "
                                     f"{self.rows[0].line}; pass size= to resize all images.")
            images[i] = x
        return chainer.datasets.TupleDataset(images, self._labels.copy())


# --------------------------------------------------------------------------- writers

def _tsv_name(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` if it lies inside it, else absolute; always '/'-separated."""
    path = Path(os.path.abspath(path))
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def write_tsv(tsv: str | os.PathLike, files: Sequence[str | os.PathLike],
              labels: Sequence[int]) -> Path:
    """Write a ``file<TAB>label`` TSV atomically; return its path.

    Files inside the TSV's folder are written relative to it, others as absolute paths
    (the rule :func:`read_tsv` resolves). Labels must be integers.
    """
    from edgelab.core.atomic import atomic_write

    tsv = Path(tsv)
    if len(files) != len(labels):
        raise ValueError(f"write_tsv: {len(files)} files but {len(labels)} labels")
    if len(files) == 0:
        raise ValueError("write_tsv: no files given; a TSV needs at least one row")
    base = Path(os.path.abspath(tsv.parent))
    lines = []
    for n, (f, label) in enumerate(zip(files, labels)):
        name = _tsv_name(Path(f), base)
        if "\t" in name or "\n" in name or "\r" in name:
            raise ValueError(f"write_tsv: file #{n} ({name!r}) has a tab or newline in its name")
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
            raise ValueError(f"write_tsv: label #{n} for {name} is {label!r}, not an integer")
        lines.append(f"{name}\t{int(label)}\n")
    with atomic_write(tsv, encoding="utf-8", newline="\n") as handle:
        handle.writelines(lines)
    return tsv


def write_flowers17_tsv(tsv: str | os.PathLike, split: str = "train", **load_kwargs) -> Path:
    """TSV of one Flower17 split ("train", "val", "test" or "all"), from ``flowers17.load``."""
    from edgelab.datasets import flowers17

    files, labels = flowers17.load(split, **load_kwargs)
    return write_tsv(tsv, files, labels)


def write_image_folder_tsv(root: str | os.PathLike, tsv: str | os.PathLike | None = None) -> Path:
    """TSV of a class-per-folder tree ``root/<label>/<image>``; the label is the folder name.

    Folder names must be integers; images are sorted by label, then by name. The TSV
    defaults to ``<root>.tsv`` next to the folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder of class sub-folders")
    tsv = Path(tsv) if tsv is not None else root.with_name(root.name + ".tsv")
    entries: list[tuple[int, str, Path]] = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            label = int(sub.name)
        except ValueError:
            raise ValueError(f"{sub}: class folder names must be integer labels (0, 1, ...)"
                             ) from None
        for f in sub.iterdir():
            if f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."):
                entries.append((label, f.name, f))
    if not entries:
        raise ValueError(f"{root}: no images in integer-named class folders")
    entries.sort()
    return write_tsv(tsv, [f for _, _, f in entries], [label for label, _, _ in entries])


def export_mnist_images(dest: str | os.PathLike, split: str = "train", count: int | None = None,
                        *, progress: bool = True) -> Path:
    """Write the first ``count`` MNIST images of ``split`` as PNGs and return their TSV.

    Layout: ``dest/<split>/<digit>/<index>.png`` (``index``: position in the MNIST split,
    5 digits) and ``dest/<split>.tsv`` with names relative to ``dest``. Each PNG is written
    atomically, so a file that exists is complete and is kept: re-running writes no image.
    Asking for a smaller ``count`` later gives a TSV of just those images (the TSV lists
    exactly the first ``count``, not whatever is in the folder).
    """
    import cv2
    from edgelab.core.progress import bar as tqdm

    from edgelab.core.atomic import atomic_path
    from edgelab.datasets import mnist

    if split not in ("train", "test"):
        raise ValueError(f"MNIST split must be 'train' or 'test', got {split!r}")
    (x_train, y_train), (x_test, y_test) = mnist.load()
    images, labels = (x_train, y_train) if split == "train" else (x_test, y_test)
    count = len(images) if count is None else count
    if not isinstance(count, (int, np.integer)) or not 0 < count <= len(images):
        raise ValueError(f"count must be 1..{len(images)} for MNIST {split}, got {count!r}")
    dest = Path(dest)
    files = [dest / split / str(int(labels[i])) / f"{i:05d}.png" for i in range(count)]
    for d in {f.parent for f in files}:
        d.mkdir(parents=True, exist_ok=True)
    todo = [i for i, f in enumerate(files) if not f.exists()]
    for i in tqdm(todo, desc=f"MNIST {split} -> PNG", unit="img", leave=False,
                  mininterval=2.0, disable=not progress or not todo):
        with atomic_path(files[i]) as tmp:
            if not cv2.imwrite(str(tmp), images[i]):
                raise OSError(f"{files[i]}: OpenCV could not write the PNG")
    return write_tsv(dest / f"{split}.tsv", files, labels[:count])


# --------------------------------------------------------------------------- memory

@dataclass(frozen=True)
class Memory:
    """Bytes held by a result (``kept``) and the peak while making it, from tracemalloc."""

    kept: int
    peak: int

    @property
    def kept_mb(self) -> float:
        return self.kept / 2**20

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def traced_memory(build: Callable[[], object]) -> tuple[object, Memory]:
    """Call ``build()`` and measure the Python/NumPy memory it allocates and keeps.

    ``tracemalloc`` sees every NumPy array and Python object (not memory libraries
    allocate outside Python), which is what an eager list of decoded images consists of.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = build()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, Memory(kept=max(after - before, 0), peak=max(peak - before, 0))
