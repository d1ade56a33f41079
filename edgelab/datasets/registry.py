"""The data registry: which files each dataset has, their checksums and their sources.

The registry itself is ``registry.toml`` next to this module (plus the per-image checksum
list of Flower17 under ``checksums/``); this module only reads it into small objects.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RemoteFile:
    """One file: its path in the cache/mirror layout, its checksum and where to get it."""

    path: str                      # e.g. "mnist/train-images-idx3-ubyte.gz"
    hash: str                      # "sha256:<hex>" or "md5:<hex>"
    urls: tuple[str, ...] = ()
    size: int | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Archive:
    """An archive to fall back on when files are not in the cache or the mirror."""

    url: str
    hash: str
    member_dir: str                # members <member_dir>/<name> become the dataset's files


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    licence: str
    citation: str
    homepage: str
    files: tuple[RemoteFile, ...]
    archive: Archive | None = None
    optional: bool = False
    extra: dict = field(default_factory=dict, compare=False)
    files_size: int | None = None  # bytes of all files, where they are too many to list

    @property
    def size(self) -> int | None:
        """Bytes of all the dataset's files (what it takes in the cache), None if unknown."""
        sizes = [f.size for f in self.files]
        if sizes and all(s is not None for s in sizes):
            return sum(sizes)
        return self.files_size

    def file(self, name: str) -> RemoteFile:
        """The file whose base name or path is ``name``."""
        for f in self.files:
            if name in (f.name, f.path):
                return f
        raise KeyError(f"dataset {self.name!r} has no file {name!r}; "
                       f"it has {', '.join(f.name for f in self.files[:6])}"
                       f"{', ...' if len(self.files) > 6 else ''}")


def _checksum_files(directory: str, checksums: str) -> tuple[RemoteFile, ...]:
    files = []
    for n, line in enumerate((HERE / checksums).read_text().splitlines(), 1):
        digest, name = line.split()
        files.append(RemoteFile(path=f"{directory}/{name}", hash=f"sha256:{digest}"))
    return tuple(files)


@functools.lru_cache(maxsize=1)
def datasets() -> dict[str, Dataset]:
    """All datasets in the registry, by name."""
    raw = tomllib.loads((HERE / "registry.toml").read_text(encoding="utf-8"))
    out = {}
    for name, spec in raw.items():
        files = tuple(RemoteFile(path=f["path"], hash=f["hash"], urls=tuple(f.get("urls", ())),
                                 size=f.get("size")) for f in spec.get("files", ()))
        if "file_checksums" in spec:
            files += _checksum_files(spec["file_dir"], spec["file_checksums"])
        archive = Archive(**spec["archive"]) if "archive" in spec else None
        out[name] = Dataset(name=name, title=spec["title"], licence=spec["licence"],
                            citation=spec["citation"], homepage=spec["homepage"], files=files,
                            archive=archive, optional=spec.get("optional", False),
                            files_size=spec.get("files_size"))
    return out


def get(name: str) -> Dataset:
    """The dataset called ``name``; an unknown name lists the known ones."""
    all_ = datasets()
    if name not in all_:
        raise KeyError(f"no dataset {name!r} in the registry; known: {', '.join(all_)}")
    return all_[name]
