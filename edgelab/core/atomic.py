"""Write files so that a crash or an interrupt never leaves half a file behind.

Everything edgelab writes for later use (downloads, extracted images, models, results,
line-art pairs) is written next to its destination under a temporary name and renamed
into place only when complete: ``os.replace`` is atomic on one file system, so a reader
sees either the old file or the whole new one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator


def _default_mode() -> int:
    """The permissions ``open()`` would give a new file (0o666 less the umask).

    ``mkstemp`` creates its files private (0o600); the finished file should look like any
    other file the user writes, readable by the group and others where the umask allows.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def move_into_place(tmp: Path, dest: Path) -> None:
    """Give a finished temporary file normal permissions and rename it to ``dest``."""
    if Path(tmp).is_file():
        os.chmod(tmp, _default_mode())
    os.replace(tmp, dest)


def replace_dir(tmp: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Move the finished folder ``tmp`` to ``dest`` so readers never see half of it.

    A folder cannot be renamed over a non-empty one, so an old ``dest`` is first renamed
    aside (in the same folder, so on the same file system), then deleted once the new one
    is in place. ``tmp`` must be in ``dest``'s folder too.
    """
    tmp, dest = Path(tmp), Path(dest)
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        os.replace(dest, old / dest.name)
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def temp_path_for(dest: Path) -> Path:
    """A fresh, unused temporary path in ``dest``'s folder (the folder is created)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    return Path(name)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``dest``, on error it is deleted.

    Use it with libraries that want a file name rather than a file object::

        with atomic_path("model.keras") as tmp:
            model.save(tmp)          # tmp ends in .part.keras so Keras accepts it
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".part{dest.suffix}",
                                dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        move_into_place(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_write(dest: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; it becomes ``dest`` only if the block succeeds."""
    if not mode.startswith("w"):
        raise ValueError(f"atomic_write needs a write mode ('w' or 'wb'), got {mode!r}")
    with atomic_path(dest) as tmp:
        with open(tmp, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def rewrite_block(path: str | os.PathLike, begin: str, end: str, body: str) -> bool:
    """Replace what stands between the marker lines ``begin`` and ``end`` in a text file
    (the README's generated tables) with ``body``, atomically; True if the file changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise ValueError(f"{path} has no generated block; add the lines\n{begin}\n{end}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{begin}\n{body}\n{end}{tail}"
    if new == text:
        return False
    with atomic_write(path, encoding="utf-8") as handle:
        handle.write(new)
    return True
