"""Loaders on the real files: MNIST, Flower17 (splits, bad folders), samples and weights."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from edgelab.datasets import flowers17, mnist, samples


def test_mnist_real_files(shared_home):
    (x_train, y_train), (x_test, y_test) = mnist.load()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    # Known class counts of the original MNIST training set.
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert int(y_train[0]) == 5 and x_train.max() == 255
    # the published label errors index this test set: each given label is the one MNIST has
    assert len(mnist.TEST_LABEL_ERRORS) == 15
    assert all(int(y_test[i]) == given for i, given in mnist.TEST_LABEL_ERRORS.items())


def test_mnist_tf_dataset(shared_home):
    (x, y), _ = mnist.load()
    ds = mnist.dataset(x[:100], y[:100], batch_size=32, shuffle=True, drop_remainder=True)
    batches = list(ds)
    assert len(batches) == 3
    images, labels = batches[0]
    assert images.shape == (32, 28, 28, 1) and images.dtype.name == "float32"
    assert labels.dtype.name == "int32" and float(images.numpy().max()) <= 1.0


@pytest.mark.parametrize("damage", ["truncate", "magic", "not-gzip"])
def test_idx_errors_name_the_file(tmp_path, mirror, damage):
    src = mirror / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(src.read_bytes())
    bad = tmp_path / "labels.gz"
    if damage == "truncate":
        bad.write_bytes(gzip.compress(raw[:-10]))
        match = "truncated or corrupt"
    elif damage == "magic":
        bad.write_bytes(gzip.compress(b"\x01" + raw[1:]))
        match = "bad magic"
    else:
        bad.write_bytes(raw)
        match = "cannot read it as gzip"
    with pytest.raises(mnist.IdxFormatError, match=match) as err:
        mnist.read_idx(bad)
    assert str(bad) in str(err.value)


def test_flowers_labels_and_class_names():
    assert flowers17.NUM_CLASSES == 17 and flowers17.NUM_IMAGES == 1360
    assert flowers17.label_of(1) == 0 and flowers17.label_of(80) == 0
    assert flowers17.label_of(81) == 1 and flowers17.label_of(1360) == 16
    assert flowers17.CLASS_NAMES[9] == "Sunflower"
    with pytest.raises(ValueError):
        flowers17.label_of(0)


def test_seeded_split_is_stratified_disjoint_and_deterministic():
    a = flowers17.seeded_split(17)
    assert {k: len(v) for k, v in a.items()} == {"train": 680, "val": 340, "test": 340}
    union = np.concatenate(list(a.values()))
    assert sorted(union.tolist()) == list(range(1, 1361))
    for name, per_class in flowers17.SPLIT_SIZES.items():
        counts = np.bincount((a[name] - 1) // 80, minlength=17)
        assert counts.tolist() == [per_class] * 17
    b = flowers17.seeded_split(17)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = flowers17.seeded_split(18)
    assert not np.array_equal(a["test"], c["test"])


def test_flowers_load_real_split(shared_home):
    files, labels = flowers17.load("test")
    assert len(files) == 340 and labels.dtype == np.int32
    assert np.bincount(labels).tolist() == [20] * 17
    assert flowers17.split_source() == "seeded"  # the mirror has no datasplits.mat
    for f, y in zip(files, labels):
        n = int(f[-8:-4])
        assert flowers17.label_of(n) == y


def test_official_split_file_is_used_when_present(home, monkeypatch):
    from scipy.io import savemat

    from edgelab.datasets import cache, registry

    entry = registry.get("flowers17_splits").files[0]
    path = cache.cache_path(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    split = flowers17.seeded_split(99)  # a valid 40/20/20 split, different from edgelab's
    savemat(path, {"trn1": split["train"][None], "val1": split["val"][None], "tst1": split["test"][None]})
    # Registry checksum is the real file's; accept this stand-in for the test.
    monkeypatch.setattr(cache, "matches", lambda p, h: True)
    assert flowers17.split_source() == "official"
    assert np.array_equal(flowers17.split_numbers("test"), split["test"])
    savemat(path, {"trn1": split["train"][None, :100]})
    with pytest.raises(flowers17.FlowersError, match="datasplits.mat"):
        flowers17.split_numbers("train")


def _copy_flowers(tmp_path):
    src = flowers17.image_dir()
    dst = tmp_path / "jpg"
    shutil.copytree(src, dst)
    return dst


def test_flowers_missing_or_corrupt_image_is_named(shared_home, tmp_path):
    root = _copy_flowers(tmp_path)
    assert len(flowers17.all_files(root)) == 1360
    (root / "image_0777.jpg").unlink()
    with pytest.raises(flowers17.FlowersError, match="image_0777.jpg.*missing"):
        flowers17.load("train", root=root)
    data = (flowers17.image_dir() / "image_0777.jpg").read_bytes()
    (root / "image_0777.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(flowers17.FlowersError, match="image_0777.jpg.*not a complete JPEG"):
        flowers17.load("train", root=root)


def test_flowers_tf_dataset(shared_home):
    files, labels = flowers17.load("val")
    ds = flowers17.dataset(files[:10], labels[:10], image_size=64, batch_size=4,
                           augment_images=True, shuffle=True)
    images, y = next(iter(ds))
    assert images.shape == (4, 64, 64, 3) and y.shape == (4,)
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0


def test_samples_and_labels(shared_home):
    labels = samples.imagenet_labels()
    assert len(labels) == 1001 and labels[0] == "background" and labels[-1] == "toilet tissue"
    assert samples.imagenet_labels("coral")[1] == "tench, Tinca tinca"
    img = samples.load_image("chelsea.png")
    assert img.shape == (300, 451, 3) and img.dtype == np.uint8
    assert samples.mobilenet_weights(include_top=True).stat().st_size == 2108140
    with pytest.raises(KeyError, match="no file"):
        samples.image_path("missing.png")
    with pytest.raises(ValueError, match="style"):
        samples.imagenet_labels("long")
