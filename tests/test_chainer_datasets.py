"""TSV image dataset for Chainer: parsing, lazy decoding, errors that name the row, writers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgelab.chainer.compat import chainer
from edgelab.chainer import datasets as cd


def _png(path: Path, image: np.ndarray) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


@pytest.fixture
def images(tmp_path) -> Path:
    """Three small test images (generated here: they test decoding, not learning)."""
    rng = np.random.default_rng(0)
    _png(tmp_path / "data" / "a.png", rng.integers(0, 256, (10, 12, 3), dtype=np.uint8))
    _png(tmp_path / "data" / "sub" / "b.png", np.full((10, 12), 255, np.uint8))
    bgr = np.zeros((8, 8, 3), np.uint8)
    bgr[..., 2] = 255  # pure red in OpenCV's BGR order
    _png(tmp_path / "data" / "red.png", bgr)
    return tmp_path / "data"


def test_rows_resolve_relative_to_the_tsv_folder_not_the_cwd(images, tmp_path, monkeypatch):
    tsv = images / "list.tsv"
    tsv.write_text(f"a.png\t0\nsub/b.png\t1\n\n{(images / 'red.png').as_posix()}\t-2\n")
    monkeypatch.chdir(tmp_path)  # a different working directory must not matter
    rows = cd.read_tsv(tsv)
    assert [r.line for r in rows] == [1, 2, 4]  # the blank line is skipped but counted
    assert [r.path for r in rows] == [images / "a.png", images / "sub" / "b.png", images / "red.png"]
    assert [r.label for r in rows] == [0, 1, -2]


def test_get_example_returns_chw_float32_in_unit_range_and_int32_label(images):
    tsv = cd.write_tsv(images / "list.tsv", [images / "a.png", images / "red.png"], [3, 4])
    ds = cd.TsvImageDataset(tsv, size=(6, 5))
    assert len(ds) == 2
    x, t = ds[0]
    assert x.shape == (3, 6, 5) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert t == 3 and t.dtype == np.int32
    red, _ = ds[1]
    assert np.allclose(red[:, 0, 0], [1.0, 0.0, 0.0])  # RGB order, not OpenCV's BGR
    assert ds.labels.tolist() == [3, 4]


def test_without_size_the_image_keeps_its_shape_and_gray_has_one_channel(images):
    tsv = cd.write_tsv(images / "g.tsv", [images / "sub" / "b.png"], [0])
    x, _ = cd.TsvImageDataset(tsv, channels=1)[0]
    assert x.shape == (1, 10, 12)
    assert np.all(x == 1.0)


def test_dataset_works_with_iterators_and_concat_examples(images):
    files = [images / "a.png", images / "red.png", images / "sub" / "b.png"]
    ds = cd.TsvImageDataset(cd.write_tsv(images / "l.tsv", files, [0, 1, 2]), size=4)
    batch = chainer.iterators.SerialIterator(ds, 2, shuffle=False).next()
    x, t = chainer.dataset.concat_examples(batch, chainer.get_device("@numpy"))
    assert x.shape == (2, 3, 4, 4) and x.dtype == np.float32
    assert t.tolist() == [0, 1] and t.dtype == np.int32
    pre = ds.preload()
    assert len(pre) == 3
    for i in range(3):
        assert np.array_equal(pre[i][0], ds[i][0]) and pre[i][1] == ds[i][1]


def test_multiprocess_iterator_gives_the_same_batches(images):
    files = [images / "a.png", images / "red.png", images / "sub" / "b.png"] * 3
    ds = cd.TsvImageDataset(cd.write_tsv(images / "m.tsv", files, list(range(9))), size=4)
    serial = chainer.iterators.SerialIterator(ds, 4, repeat=False, shuffle=False)
    parallel = chainer.iterators.MultiprocessIterator(ds, 4, repeat=False, shuffle=False,
                                                      n_processes=2)
    try:
        for a, b in zip(serial, parallel):
            xa, ta = chainer.dataset.concat_examples(a)
            xb, tb = chainer.dataset.concat_examples(b)
            assert np.array_equal(xa, xb) and np.array_equal(ta, tb)
    finally:
        parallel.finalize()


@pytest.mark.parametrize("content, expected", [
    ("a.png\tseven\n", r"row 1, file a\.png: label 'seven' is not an integer"),
    ("a.png\t1\nsub/b.png\t2.5\n", r"row 2, file sub/b\.png: label '2\.5' is not an integer"),
    ("a.png\t1\nnope.png\t2\n", r"row 2, file nope\.png: no such file"),
    ("a.png\t1\t9\n", r"row 1: expected 'file<TAB>label', got 3"),
    ("a.png 1\n", r"row 1: expected 'file<TAB>label', got 1"),
    ("\n\n", r"has no rows"),
])
def test_bad_rows_are_named_with_row_number_and_file(images, content, expected):
    tsv = images / "bad.tsv"
    tsv.write_text(content)
    with pytest.raises(cd.TsvDatasetError, match=expected):
        cd.TsvImageDataset(tsv)


def test_missing_tsv_is_a_clear_error(tmp_path):
    with pytest.raises(cd.TsvDatasetError, match="no such TSV file"):
        cd.TsvImageDataset(tmp_path / "nothing.tsv")


def test_unreadable_image_raises_in_get_example_naming_row_and_file(images):
    (images / "broken.png").write_bytes(b"\x89PNG but not really")
    tsv = images / "l.tsv"
    tsv.write_text("a.png\t0\nbroken.png\t1\n")
    ds = cd.TsvImageDataset(tsv)  # the file exists, so reading the TSV succeeds
    ds[0]
    with pytest.raises(cd.TsvDatasetError, match=r"row 2, file broken\.png: OpenCV cannot decode"):
        ds[1]


def test_file_deleted_after_reading_the_tsv_is_named(images):
    tsv = cd.write_tsv(images / "l.tsv", [images / "a.png", images / "red.png"], [0, 1])
    ds = cd.TsvImageDataset(tsv)
    (images / "red.png").unlink()
    with pytest.raises(cd.TsvDatasetError, match=r"row 2, file red\.png: no such file"):
        ds.get_example(1)


def test_preload_refuses_mixed_sizes_without_resize(images):
    tsv = cd.write_tsv(images / "l.tsv", [images / "a.png", images / "red.png"], [0, 1])
    with pytest.raises(cd.TsvDatasetError, match="row 2.*pass size="):
        cd.TsvImageDataset(tsv).preload()


@pytest.mark.parametrize("kwargs, expected", [
    (dict(channels=2), "channels must be 1"), (dict(size=0), "size must be positive"),
    (dict(size="big"), "size must be None"),
])
def test_bad_arguments(images, kwargs, expected):
    tsv = cd.write_tsv(images / "l.tsv", [images / "a.png"], [0])
    with pytest.raises(ValueError, match=expected):
        cd.TsvImageDataset(tsv, **kwargs)


def test_write_tsv_relative_inside_the_folder_absolute_outside(images, tmp_path):
    outside = _png(tmp_path / "elsewhere" / "c.png", np.zeros((4, 4), np.uint8))
    tsv = cd.write_tsv(images / "l.tsv", [images / "sub" / "b.png", outside], [1, np.int64(2)])
    lines = tsv.read_text().splitlines()
    assert lines == ["sub/b.png\t1", f"{outside.resolve().as_posix()}\t2"]
    assert [r.path.resolve() for r in cd.read_tsv(tsv)] == [images / "sub" / "b.png", outside.resolve()]
    assert not list(images.glob(".*part*"))  # written atomically, no temp file left


@pytest.mark.parametrize("files, labels, expected", [
    (["a.png"], [0, 1], "1 files but 2 labels"), ([], [], "no files"),
    (["a.png"], [1.5], "not an integer"), (["a.png"], [True], "not an integer"),
    (["a\tb.png"], [0], "tab or newline"),
])
def test_write_tsv_rejects_bad_input(images, files, labels, expected):
    with pytest.raises(ValueError, match=expected):
        cd.write_tsv(images / "x.tsv", [images / f for f in files], labels)
    assert not (images / "x.tsv").exists()


def test_image_folder_tsv_labels_from_folder_names(tmp_path):
    root = tmp_path / "digits"
    for label, name in [(1, "b.png"), (0, "z.png"), (0, "a.png"), (10, "c.png")]:
        _png(root / str(label) / name, np.zeros((3, 3), np.uint8))
    (root / "0" / "notes.txt").write_text("ignored")
    tsv = cd.write_image_folder_tsv(root)
    assert tsv == tmp_path / "digits.tsv"
    assert tsv.read_text().splitlines() == ["digits/0/a.png\t0", "digits/0/z.png\t0",
                                            "digits/1/b.png\t1", "digits/10/c.png\t10"]
    (root / "cats").mkdir()
    with pytest.raises(ValueError, match="integer labels"):
        cd.write_image_folder_tsv(root)


def test_export_mnist_images_is_real_mnist_and_idempotent(shared_home, tmp_path):
    from edgelab.datasets import mnist

    (_, _), (x_test, y_test) = mnist.load()
    tsv = cd.export_mnist_images(tmp_path / "png", "test", 30, progress=False)
    assert tsv == tmp_path / "png" / "test.tsv"
    lines = tsv.read_text().splitlines()
    assert len(lines) == 30 and lines[0] == f"test/{y_test[0]}/00000.png\t{y_test[0]}"
    ds = cd.TsvImageDataset(tsv, channels=1)
    for i in (0, 29):
        x, t = ds[i]
        assert t == y_test[i]
        assert np.array_equal(np.rint(x[0] * 255).astype(np.uint8), x_test[i])  # PNG is lossless
    files = sorted((tmp_path / "png" / "test").rglob("*.png"))
    stamps = {f: os.stat(f).st_mtime_ns for f in files}
    again = cd.export_mnist_images(tmp_path / "png", "test", 10, progress=False)
    assert {f: os.stat(f).st_mtime_ns for f in files} == stamps  # no image rewritten
    assert again.read_text().splitlines() == lines[:10]  # the TSV lists exactly the first 10
    with pytest.raises(ValueError, match="count must be"):
        cd.export_mnist_images(tmp_path / "png", "test", 0)
    with pytest.raises(ValueError, match="split must be"):
        cd.export_mnist_images(tmp_path / "png", "validation", 5)


def test_flowers17_tsv_uses_the_data_layer_labels(shared_home, tmp_path):
    from edgelab.datasets import flowers17

    files, labels = flowers17.load("train")
    tsv = cd.write_flowers17_tsv(tmp_path / "train.tsv", "train")
    rows = cd.read_tsv(tsv)
    assert len(rows) == len(files) == 680
    assert [r.label for r in rows] == labels.tolist()
    assert [r.path.resolve() for r in rows] == [Path(f).resolve() for f in files]
    x, t = cd.TsvImageDataset(tsv, size=32)[5]
    assert x.shape == (3, 32, 32) and t == labels[5]


def test_traced_memory_sees_numpy_arrays():
    result, mem = cd.traced_memory(lambda: np.ones(1_000_000, np.float32))
    assert result.nbytes == 4_000_000
    assert 4_000_000 <= mem.kept < 4_100_000 and mem.peak >= mem.kept
