"""Embedding-projector export: files, their agreement, TensorBoard reading them, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from edgelab.xception import projector as P

CLASSES = ["red", "green", "blue"]


def example(n=10, d=5, seed=0):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, d)).astype(np.float32)
    labels = np.arange(n) % 3
    files = [f"/data/jpg/image_{i:04d}.jpg" for i in range(n)]
    images = np.zeros((n, 20, 20, 3), np.float32)
    images[np.arange(n), :, :, labels] = 1.0    # synthetic: each image is its class colour
    return vectors, labels, files, images


def test_writes_four_files_that_agree(tmp_path):
    vectors, labels, files, images = example()
    out = P.write_projector(tmp_path, vectors, labels, CLASSES, files, images, thumb=16)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["vectors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt"])
    rows = [r.split("\t") for r in out["vectors"].read_text().splitlines()]
    np.testing.assert_allclose(np.array(rows, float), vectors, rtol=1e-5)
    meta = out["metadata"].read_text().splitlines()
    assert meta[0] == "file\tlabel\tclass"
    assert meta[1:4] == ["image_0000.jpg\t0\tred", "image_0001.jpg\t1\tgreen",
                         "image_0002.jpg\t2\tblue"]
    assert len(meta) == 11
    import cv2

    sprite = cv2.imread(str(out["sprite"]))[..., ::-1]
    assert sprite.shape == (4 * 16, 4 * 16, 3)       # ceil(sqrt(10)) = 4 tiles a side
    # tile 2 (row 0, column 2) is the blue image; tile 10+ stays black
    assert sprite[8, 2 * 16 + 8].tolist() == [0, 0, 255]
    assert sprite[3 * 16 + 8, 3 * 16 + 8].tolist() == [0, 0, 0]
    lines = P.describe(tmp_path)
    assert lines[0] == "vectors.tsv: 10 vectors x 5 values"
    assert lines[1] == "metadata.tsv: header ['file', 'label', 'class'], 10 rows"
    assert lines[2] == "sprite.png: 64x64 px"


def test_tensorboards_projector_plugin_reads_it(tmp_path):
    from tensorboard.backend.event_processing import plugin_event_multiplexer  # noqa: F401
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.projector.projector_plugin import ProjectorPlugin

    vectors, labels, files, images = example(n=12, d=7)
    P.write_projector(tmp_path, vectors, labels, CLASSES, files, images, thumb=8,
                      tensor_name="xception_test")
    plugin = ProjectorPlugin(base_plugin.TBContext(logdir=str(tmp_path), data_provider=None))
    plugin._update_configs()
    config = plugin._configs["."]
    emb = config.embeddings[0]
    assert emb.tensor_name == "xception_test"
    assert list(emb.tensor_shape) == [12, 7]
    assert emb.metadata_path == "metadata.tsv" and emb.sprite.image_path == "sprite.png"
    assert list(emb.sprite.single_image_dim) == [8, 8]


def test_mismatched_inputs_write_nothing(tmp_path):
    vectors, labels, files, images = example()
    with pytest.raises(ValueError, match="10 vectors but 9 files"):
        P.write_projector(tmp_path, vectors, labels, CLASSES, files[:9], images)
    with pytest.raises(ValueError, match="labels must index"):
        P.write_projector(tmp_path, vectors, labels + 1, CLASSES, files, images)
    bad = vectors.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        P.write_projector(tmp_path, bad, labels, CLASSES, files, images)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        P.write_projector(tmp_path, vectors, labels, CLASSES, files, images * 255)
    with pytest.raises(ValueError, match="vectors must be"):
        P.write_projector(tmp_path, vectors[0], labels, CLASSES, files, images)
    assert list(tmp_path.iterdir()) == []


def test_sprite_refuses_what_the_projector_cannot_show():
    with pytest.raises(ValueError, match="8192"):
        P.sprite_image(np.zeros((200, 4, 4, 3), np.uint8), thumb=1000)
    with pytest.raises(ValueError, match="no images"):
        P.sprite_image(np.zeros((0, 4, 4, 3), np.uint8))
    gray = P.sprite_image(np.ones((4, 6, 6), np.float32), thumb=3)
    assert gray.shape == (6, 6, 3) and gray.max() == 255


def test_tabs_and_newlines_in_names_do_not_break_the_tsv(tmp_path):
    vectors, labels, files, images = example(n=3)
    files = ["a\tb.jpg", "c\nd.jpg", "e.jpg"]
    out = P.write_projector(tmp_path, vectors, labels, ["x\ty", "z", "w"], files, images)
    meta = out["metadata"].read_text().splitlines()
    assert meta[1:] == ["a b.jpg\t0\tx y", "c d.jpg\t1\tz", "e.jpg\t2\tw"]


def test_pca_matches_sklearn_up_to_sign_and_is_deterministic():
    from sklearn import decomposition

    x = np.random.default_rng(0).normal(size=(50, 6)) * np.array([5, 3, 1, 1, 1, 1])
    ours = P.pca_2d(x)
    ref = decomposition.PCA(2).fit_transform(x)
    for k in range(2):
        assert np.allclose(ours[:, k], ref[:, k], atol=1e-8) or \
            np.allclose(ours[:, k], -ref[:, k], atol=1e-8)
    np.testing.assert_array_equal(P.pca_2d(x), ours)


def test_tsne_and_scatter():
    vectors, labels, _, _ = example(n=30, d=4)
    pts = P.tsne_2d(vectors, seed=0)
    assert pts.shape == (30, 2)
    fig = P.scatter_by_class(pts, labels, CLASSES, "t")
    assert len(fig.axes[0].collections) == 3
    import matplotlib.pyplot as plt

    plt.close(fig)
