"""Get registry files into the local cache, verified, from the mirror or the canonical URLs.

For each file the order is:

1. the **cache** (``$EDGELAB_HOME/data/<path>``), if its checksum matches;
2. the **mirror**, if ``EDGELAB_MIRROR`` is set: a folder (``../shared/data``) or an
   ``http(s)://`` address laid out like the cache (a teacher's ``edgelab data serve``);
3. the file's **canonical URLs**, in registry order (skipped when ``EDGELAB_OFFLINE=1``);
4. for datasets shipped as an archive (Flower17), the official archive, extracted safely.

Every byte is checked against the registry's checksum before it is renamed into the
cache; a source whose bytes do not match is refused and its partial file deleted. HTTP
goes through ``pooch``'s downloader (progress bar, streaming) rather than hand-written code.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Iterable

from edgelab.core import paths
from edgelab.core.atomic import move_into_place, temp_path_for
from edgelab.datasets import registry
from edgelab.datasets.registry import Dataset, RemoteFile

MIRROR_VAR = "EDGELAB_MIRROR"
OFFLINE_VAR = "EDGELAB_OFFLINE"
HTTP_TIMEOUT = 30  # seconds without data before a download is given up


class DataError(RuntimeError):
    """A data file could not be provided; the message says which, why, and what to do."""


class DataUnavailableError(DataError):
    """No source could provide the file (offline, no mirror, missing on the mirror...)."""


class ChecksumError(DataError):
    """Bytes did not match the registry's checksum; they were deleted, not used."""


class ArchiveError(DataError):
    """An archive is truncated, corrupt or unsafe (absolute paths, ``..``, links)."""


# --------------------------------------------------------------------------- checksums

_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> hash verified


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def matches(path: str | os.PathLike, expected: str) -> bool:
    """True if the file's digest equals ``expected`` (``"sha256:<hex>"`` or ``"md5:<hex>"``)."""
    algorithm, _, digest = expected.partition(":")
    if not digest:
        raise ValueError(f"checksum {expected!r} must look like 'sha256:<hex>'")
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if _verified.get(key) == expected:
        return True
    ok = file_digest(path, algorithm) == digest.lower()
    if ok:
        _verified[key] = expected
    return ok


# --------------------------------------------------------------------------- sources

def mirror() -> str | None:
    """The configured mirror (folder or URL), or None. A missing folder is an error."""
    value = os.environ.get(MIRROR_VAR, "").strip()
    if not value:
        return None
    if value.startswith(("http://", "https://")):
        return value.rstrip("/")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataUnavailableError(
            f"{MIRROR_VAR}={value!r} is not a folder. Point it at a folder laid out like the "
            f"data mirror (e.g. ../shared/data) or an http(s):// address, or unset it.")
    return str(path.resolve())


def offline() -> bool:
    return os.environ.get(OFFLINE_VAR, "").strip().lower() in ("1", "true", "yes")


def cache_path(f: RemoteFile) -> Path:
    return paths.data_dir() / f.path


def _sources(f: RemoteFile, use_urls: bool = True) -> list[str]:
    out = []
    m = mirror()
    if m:
        out.append(f"{m}/{f.path}" if "://" in m else str(Path(m) / f.path))
    if use_urls and not offline():
        out.extend(f.urls)
    return out


def _retrieve(source: str, dest: Path, progress: bool) -> None:
    """Copy or download ``source`` into ``dest`` (an existing temporary file)."""
    if "://" not in source:
        if not Path(source).is_file():
            raise FileNotFoundError("not found")
        shutil.copyfile(source, dest)
        return
    import pooch

    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=HTTP_TIMEOUT)
    downloader(source, str(dest), None)


def _short_reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text if len(text) < 200 else text[:197] + "..."


def _help(f: RemoteFile) -> str:
    return (f"To work offline, set {MIRROR_VAR} to a folder or http(s):// address laid out like "
            f"the edgelab data mirror (for example: export {MIRROR_VAR}=../shared/data), "
            f"or put a verified copy at {cache_path(f)}.")


def fetch_file(f: RemoteFile, *, progress: bool = True, dataset: str = "",
               use_urls: bool = True) -> Path:
    """Return the cached path of ``f``, getting and verifying it first if needed.

    ``use_urls=False`` looks only in the cache and the mirror (for optional files that
    should never cost a network round trip).
    """
    dest = cache_path(f)
    if dest.is_file():
        if matches(dest, f.hash):
            return dest
        dest.unlink()  # a corrupt cache entry is worse than none
    tried: list[str] = []
    mismatch = False
    for source in _sources(f, use_urls):
        tmp = temp_path_for(dest)
        try:
            _retrieve(source, tmp, progress and "://" in source)
            if not matches(tmp, f.hash):
                algorithm, _, want = f.hash.partition(":")
                got = file_digest(tmp, algorithm)
                mismatch = True
                tried.append(f"{source}: checksum mismatch ({algorithm} {got}, expected {want}); "
                             "the downloaded bytes were deleted")
                continue
            move_into_place(tmp, dest)
            return dest
        except Exception as err:  # noqa: BLE001 - every failure is reported below
            tried.append(f"{source}: {_short_reason(err)}")
        finally:
            if tmp.exists():
                tmp.unlink()
    where = f" (dataset {dataset!r})" if dataset else ""
    if not tried:
        reason = (f"no mirror is set ({MIRROR_VAR}) and canonical URLs are skipped because "
                  f"{OFFLINE_VAR}=1") if offline() else "no source is known"
        raise DataUnavailableError(f"edgelab could not get {f.path}{where}: {reason}.\n{_help(f)}")
    lines = "\n".join(f"  - {t}" for t in tried)
    if mismatch:
        refused = next(t.split(": checksum mismatch")[0] for t in tried if ": checksum mismatch" in t)
        raise ChecksumError(
            f"edgelab refused {f.path}{where} from {refused}: its bytes do not match the "
            f"registry's checksum (a damaged or different file; nothing was kept). Tried:\n"
            f"{lines}\n{_help(f)}")
    raise DataUnavailableError(f"edgelab could not get {f.path}{where}. Tried:\n{lines}\n{_help(f)}")


# --------------------------------------------------------------------------- archives

def _check_member(archive: Path, member: tarfile.TarInfo) -> PurePosixPath:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or member.name.startswith(("/", "\\")):
        raise ArchiveError(f"{archive}: refusing unsafe member path {member.name!r} "
                           "(absolute or containing '..'); nothing was extracted.")
    if member.issym() or member.islnk() or member.isdev() or member.isfifo():
        raise ArchiveError(f"{archive}: refusing link or device member {member.name!r}; "
                           "nothing was extracted.")
    return name


def extract_tar(archive: str | os.PathLike, dest: str | os.PathLike,
                member_dir: str = "") -> list[Path]:
    """Extract the regular files under ``member_dir`` of a tar archive into ``dest``.

    All member names are checked before anything is written; files are extracted into a
    temporary folder and moved into ``dest`` only when the whole archive read cleanly, so
    a truncated or malicious archive leaves ``dest`` untouched.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    prefix = PurePosixPath(member_dir) if member_dir else None
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    moved: list[Path] = []
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = tar.getmembers()
                wanted = []
                for m in members:
                    name = _check_member(archive, m)
                    if not m.isfile():
                        continue
                    if prefix is not None:
                        if name.parent != prefix:
                            continue
                        rel = PurePosixPath(name.name)
                    else:
                        rel = name
                    wanted.append((m, rel))
                for m, rel in wanted:
                    target = staging / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    src = tar.extractfile(m)
                    with src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out)
                    if target.stat().st_size != m.size:
                        raise EOFError(f"member {m.name} is short")
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError) as err:
            raise ArchiveError(f"{archive}: the archive is truncated or corrupt "
                               f"({_short_reason(err)}); delete it and fetch it again. "
                               "Nothing was extracted.") from None
        for m, rel in wanted:
            final = dest / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, final)
            moved.append(final)
        return moved
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _fetch_from_archive(ds: Dataset, missing: list[RemoteFile], progress: bool,
                        earlier: list[str]) -> None:
    arc = ds.archive
    assert arc is not None
    archive_file = RemoteFile(path=f"_downloads/{arc.url.rsplit('/', 1)[-1]}", hash=arc.hash,
                              urls=(arc.url,))
    try:
        local = fetch_file(archive_file, progress=progress, dataset=ds.name)
    except DataError as err:
        first = missing[0]
        detail = "\n".join(f"  - {t}" for t in earlier)
        raise DataUnavailableError(
            f"edgelab could not get {len(missing)} file(s) of dataset {ds.name!r} "
            f"(first: {first.path}).\n{detail}\nThe official archive failed too:\n{err}") from None
    target_dir = cache_path(missing[0]).parent
    staging = Path(tempfile.mkdtemp(prefix=".archive-", dir=paths.data_dir()))
    try:
        extract_tar(local, staging, arc.member_dir)
        for f in missing:
            got = staging / f.name
            if not got.is_file():
                raise ArchiveError(f"{local}: the archive has no {arc.member_dir}/{f.name}.")
            if not matches(got, f.hash):
                raise ChecksumError(f"{local}: member {f.name} does not match its registry "
                                    "checksum; nothing from this archive was used.")
        target_dir.mkdir(parents=True, exist_ok=True)
        for f in missing:
            os.replace(staging / f.name, cache_path(f))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    local.unlink(missing_ok=True)  # the verified images are kept; the archive is not needed


# --------------------------------------------------------------------------- datasets

def fetch(name: str, *, progress: bool = True) -> list[Path]:
    """Make every file of dataset ``name`` available in the cache; return their paths."""
    ds = registry.get(name)
    missing = [f for f in ds.files if not (cache_path(f).is_file() and matches(cache_path(f), f.hash))]
    if missing:
        bar = None
        m = mirror()
        local_mirror = m is not None and "://" not in m
        # Copies from a local mirror take a second or two: no bar (and no stray stderr in
        # notebook cells); downloads get one bar for the whole dataset.
        if progress and len(missing) > 1 and not local_mirror:
            from edgelab.core.progress import bar as tqdm

            bar = tqdm(total=len(missing), desc=f"fetching {name}", unit="file")
        failed: list[tuple[RemoteFile, DataError]] = []
        try:
            for f in missing:
                try:
                    fetch_file(f, progress=progress and bar is None, dataset=name)
                except DataError as err:
                    if ds.archive is None:
                        raise
                    failed.append((f, err))
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        if failed:
            earlier = [str(failed[0][1]).splitlines()[0]]
            _fetch_from_archive(ds, [f for f, _ in failed], progress, earlier)
    return [cache_path(f) for f in ds.files]


def status(name: str) -> dict:
    """What of dataset ``name`` is in the cache: counts, bytes, verified or not."""
    ds = registry.get(name)
    present = verified = size = 0
    for f in ds.files:
        p = cache_path(f)
        if p.is_file():
            present += 1
            size += p.stat().st_size
            verified += matches(p, f.hash)
    return {"dataset": name, "files": len(ds.files), "cached": present, "verified": verified,
            "bytes": size, "location": str(paths.data_dir()), "optional": ds.optional}


def fetch_many(names: Iterable[str], *, progress: bool = True) -> None:
    for n in names:
        fetch(n, progress=progress)
