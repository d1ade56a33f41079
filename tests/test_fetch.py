"""The data layer's fetch: cache, mirror (folder and HTTP), checksums, archives, errors."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from edgelab.datasets import cache as F
from edgelab.datasets import registry
from edgelab.datasets.registry import Archive, Dataset, RemoteFile

LABELS = "imagenet_labels/ImageNetLabels.txt"


def _entry(path: str = LABELS) -> RemoteFile:
    return next(f for ds in registry.datasets().values() for f in ds.files if f.path == path)


def _no_partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".part" in p.name or p.name.startswith(".extract-")]


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_registry_describes_the_mirror_exactly(mirror):
    """Every registry file is in the mirror with that checksum, and vice versa."""
    listed = {}
    for ds in registry.datasets().values():
        if ds.optional:
            continue
        for f in ds.files:
            listed[f.path] = f.hash
    on_disk = {str(p.relative_to(mirror)) for p in mirror.rglob("*")
               if p.is_file() and p.name not in ("SHA256SUMS", "MANIFEST.md")}
    assert on_disk == set(listed)
    for ds in registry.datasets().values():   # the sizes edgelab doctor adds up
        if ds.optional:
            continue
        for f in ds.files:
            assert f.size is None or f.size == (mirror / f.path).stat().st_size, f.path
        assert ds.size == sum((mirror / f.path).stat().st_size for f in ds.files), ds.name
    for folder in mirror.iterdir():
        sums = folder / "SHA256SUMS"
        if sums.is_file():
            for line in sums.read_text().splitlines():
                digest, name = line.split()
                assert listed[f"{folder.name}/{name}"] == f"sha256:{digest}"


def test_mirror_folder_then_cache_hit(home, mirror, monkeypatch):
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    f = _entry()
    path = F.fetch_file(f)
    assert path == home / "data" / LABELS
    assert path.read_bytes() == (mirror / LABELS).read_bytes()
    inode = path.stat().st_ino
    # The cache hit works with no mirror at all and does not rewrite the file.
    monkeypatch.delenv("EDGELAB_MIRROR")
    assert F.fetch_file(f) == path
    assert path.stat().st_ino == inode
    assert _no_partials(home) == []


def test_corrupt_cache_entry_is_replaced(home, mirror, monkeypatch):
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    f = _entry()
    path = F.fetch_file(f)
    path.write_text("tampered")
    F._verified.clear()
    assert F.fetch_file(f).read_bytes() == (mirror / LABELS).read_bytes()


def test_mirror_over_http(home, mirror, http_server, monkeypatch):
    """The real download path (pooch over HTTP) against a local server."""
    url = http_server(mirror)
    monkeypatch.setenv("EDGELAB_MIRROR", url + "/")
    paths = F.fetch("mnist", progress=False)
    assert [p.name for p in paths] == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    for p in paths:
        assert p.read_bytes() == (mirror / "mnist" / p.name).read_bytes()
    assert F.status("mnist")["verified"] == 4


def test_canonical_url_used_after_mirror_misses(home, tmp_path, http_server, monkeypatch):
    """A file missing on the mirror comes from the next URL; that URL's bytes are verified."""
    data = b"hello edgelab\n"
    site = tmp_path / "site"
    site.mkdir()
    (site / "x.txt").write_bytes(data)
    url = http_server(site)
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    monkeypatch.setenv("EDGELAB_MIRROR", str(empty_mirror))
    monkeypatch.delenv("EDGELAB_OFFLINE")
    f = RemoteFile(path="demo/x.txt", hash=_sha(data), urls=(f"{url}/x.txt",))
    assert F.fetch_file(f, progress=False).read_bytes() == data


def test_checksum_mismatch_is_refused_and_deleted(home, tmp_path, http_server, monkeypatch):
    bad = tmp_path / "badmirror"
    (bad / "imagenet_labels").mkdir(parents=True)
    (bad / LABELS).write_text("background\nnot the real labels\n")
    monkeypatch.setenv("EDGELAB_MIRROR", str(bad))
    with pytest.raises(F.ChecksumError) as err:
        F.fetch_file(_entry())
    text = str(err.value)
    assert LABELS in text and "checksum mismatch" in text and "deleted" in text
    assert not (home / "data" / LABELS).exists()
    assert _no_partials(home) == []
    # Same over HTTP.
    monkeypatch.setenv("EDGELAB_MIRROR", http_server(bad))
    with pytest.raises(F.ChecksumError):
        F.fetch_file(_entry(), progress=False)
    assert not (home / "data" / LABELS).exists() and _no_partials(home) == []


def test_offline_error_names_file_sources_and_fix(home, tmp_path, monkeypatch):
    with pytest.raises(F.DataUnavailableError) as err:
        F.fetch_file(_entry())
    text = str(err.value)
    assert LABELS in text and "EDGELAB_MIRROR" in text and "EDGELAB_OFFLINE=1" in text
    assert str(home / "data" / LABELS) in text
    # With a mirror that lacks the file and unreachable URLs: each place tried is listed.
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("EDGELAB_MIRROR", str(empty))
    monkeypatch.delenv("EDGELAB_OFFLINE")
    f = RemoteFile(path="demo/y.bin", hash=_sha(b"y"), urls=("http://127.0.0.1:9/y.bin",))
    with pytest.raises(F.DataUnavailableError) as err:
        F.fetch_file(f, progress=False)
    text = str(err.value)
    assert str(empty / "demo" / "y.bin") in text and "not found" in text
    assert "http://127.0.0.1:9/y.bin" in text and "EDGELAB_MIRROR" in text


def test_mirror_that_is_not_a_folder(home, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGELAB_MIRROR", str(tmp_path / "nowhere"))
    with pytest.raises(F.DataUnavailableError, match="nowhere.*is not a folder"):
        F.fetch_file(_entry())


# --------------------------------------------------------------------------- archives

def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_extract_tar_member_dir(tmp_path):
    arc = _tar(tmp_path / "a.tgz", {"jpg/a.jpg": b"A", "jpg/b.jpg": b"BB", "other/c": b"C"})
    out = F.extract_tar(arc, tmp_path / "out", "jpg")
    assert sorted(p.name for p in out) == ["a.jpg", "b.jpg"]
    assert (tmp_path / "out" / "b.jpg").read_bytes() == b"BB"
    assert _no_partials(tmp_path / "out") == []


def test_truncated_archive(tmp_path):
    payload = np.random.default_rng(0).bytes(200_000)  # incompressible: truncation cuts data
    arc = _tar(tmp_path / "a.tgz", {"jpg/a.jpg": payload, "jpg/b.jpg": payload[::-1]})
    data = arc.read_bytes()
    arc.write_bytes(data[: len(data) // 2])
    with pytest.raises(F.ArchiveError, match="a.tgz.*truncated or corrupt"):
        F.extract_tar(arc, tmp_path / "out", "jpg")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("evil", ["../evil.txt", "/etc/evil.txt", "jpg/../../evil.txt"])
def test_path_traversal_archive(tmp_path, evil):
    arc = _tar(tmp_path / "evil.tgz", {"jpg/ok.jpg": b"ok", evil: b"pwned"})
    with pytest.raises(F.ArchiveError, match="unsafe member path"):
        F.extract_tar(arc, tmp_path / "out", "jpg")
    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_symlink_member_refused(tmp_path):
    arc = tmp_path / "link.tar"
    with tarfile.open(arc, "w") as tar:
        info = tarfile.TarInfo("jpg/link.jpg")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(F.ArchiveError, match="link or device"):
        F.extract_tar(arc, tmp_path / "out", "jpg")


def test_dataset_falls_back_to_official_archive(home, tmp_path, http_server, monkeypatch):
    """Files missing from cache and mirror come from the archive, verified one by one."""
    images = {"image_0001.jpg": b"\xff\xd8\xffone\xff\xd9", "image_0002.jpg": b"\xff\xd8\xfftwo\xff\xd9"}
    site = tmp_path / "site"
    site.mkdir()
    arc = _tar(site / "17flowers.tgz", {f"jpg/{k}": v for k, v in images.items()})
    url = http_server(site)
    ds = Dataset(name="tiny", title="t", licence="l", citation="c", homepage="h",
                 files=tuple(RemoteFile(path=f"tiny/jpg/{k}", hash=_sha(v)) for k, v in images.items()),
                 archive=Archive(url=f"{url}/17flowers.tgz", hash=_sha(arc.read_bytes()), member_dir="jpg"))
    monkeypatch.setattr(registry, "get", lambda name: ds)
    monkeypatch.delenv("EDGELAB_OFFLINE")
    paths = F.fetch("tiny", progress=False)
    assert [p.read_bytes() for p in paths] == list(images.values())
    assert not (home / "data" / "_downloads" / "17flowers.tgz").exists()  # archive removed
    assert _no_partials(home) == []

    # An archive whose member does not match the registry is refused as a whole.
    for p in paths:
        p.unlink()
    bad = dict(images, **{"image_0002.jpg": b"tampered"})
    arc = _tar(site / "17flowers.tgz", {f"jpg/{k}": v for k, v in bad.items()})
    ds2 = Dataset(**{**ds.__dict__, "archive": Archive(url=f"{url}/17flowers.tgz",
                                                       hash=_sha(arc.read_bytes()), member_dir="jpg")})
    monkeypatch.setattr(registry, "get", lambda name: ds2)
    with pytest.raises(F.ChecksumError, match="image_0002.jpg"):
        F.fetch("tiny", progress=False)
    assert not any((home / "data" / "tiny" / "jpg").glob("*.jpg"))
