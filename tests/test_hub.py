"""edgelab.hub and edgelab.hub.offline: handle resolution, the offline Hub builds, fine-tuning.

Most tests run in this (Keras 3) process with plain TensorFlow. ``hub.KerasLayer`` needs
tf_keras, which must be chosen before TensorFlow is imported, so the tests that use it run
one script in a subprocess with ``TF_USE_LEGACY_KERAS=1``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from edgelab import hub
from edgelab.hub import offline as hub_models
from edgelab.hub import handles as hub_handles

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN = "https://tfhub.dev/google/no_such_model/1"
TFHUB_224 = "https://tfhub.dev/google/imagenet/mobilenet_v1_025_224/feature_vector/5"

# ---------------------------------------------------------------------------------------
# What the published modules google/imagenet/mobilenet_v1_025_{128,224}/{classification,
# feature_vector}/5 (Kaggle Models: google/mobilenet-v1/TensorFlow2/025-128-..., version 2)
# are, written down once so that edgelab's offline build cannot drift from them. Sources:
#  [card]  model cards, github.com/tensorflow/tfhub.dev (snapshot 81fdea8, 2024-03-18)
#          assets/docs/google/models/imagenet/mobilenet_v1_025_128/feature_vector/5.md and
#          .../classification/5.md: "uses the TF-Slim implementation of mobilenet_v1_025";
#          256 features / 1001 logits with class 0 "background"; inputs in [0, 1], other
#          sizes possible; hub.KerasLayer(..., trainable=True,
#          arguments=dict(batch_norm_momentum=0.997)), default momentum 0.99.
#  [api]   tensorflow/hub docs/reusable_saved_models.md and docs/common_saved_model_apis/
#          images.md (commit 1ad1c3f, 2023-08-03): __call__(inputs, training=False, **kwargs),
#          variables (TF1's GLOBAL_VARIABLES), trainable_variables, regularization_losses
#          (zero-argument functions returning a scalar); output float32 [batch, n].
#  [slim]  tensorflow/models research/slim/nets/mobilenet_v1.py (commit ebafe28): scopes
#          MobilenetV1/Conv2d_0, Conv2d_<i>_depthwise, Conv2d_<i>_pointwise,
#          Logits/Conv2d_1c_1x1; batch norm center+scale, epsilon 1e-3; weight_decay 4e-5 on
#          conv2d weights, regularize_depthwise=False; padding SAME; depth max(d*0.25, 8).
#  [tfslim] the variable names, their order and the regularisation losses that TF-Slim
#          (tf-slim 1.1.0) creates for that network, read from a tf.compat.v1 graph built
#          with its conv2d / separable_conv2d / batch_norm under that arg scope.
#  [export] tensorflow/hub docs/exporting_hub_format.md: TF1 Hub modules were exported with
#          the graph's REGULARIZATION_LOSSES collection.
PUBLISHED_FIRST_LAYER = [                                                  # [slim], [tfslim]
    ("MobilenetV1/Conv2d_0/weights", [3, 3, 3, 8]),
    ("MobilenetV1/Conv2d_0/BatchNorm/gamma", [8]),
    ("MobilenetV1/Conv2d_0/BatchNorm/beta", [8]),
    ("MobilenetV1/Conv2d_0/BatchNorm/moving_mean", [8]),
    ("MobilenetV1/Conv2d_0/BatchNorm/moving_variance", [8]),
    ("MobilenetV1/Conv2d_1_depthwise/depthwise_weights", [3, 3, 8, 1]),
]
PUBLISHED_LAST_LAYERS = [                                                  # [slim], [tfslim]
    ("MobilenetV1/Conv2d_13_pointwise/weights", [1, 1, 256, 256]),
    ("MobilenetV1/Conv2d_13_pointwise/BatchNorm/gamma", [256]),
    ("MobilenetV1/Conv2d_13_pointwise/BatchNorm/beta", [256]),
    ("MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_mean", [256]),
    ("MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_variance", [256]),
]
PUBLISHED_LOGITS = [("MobilenetV1/Logits/Conv2d_1c_1x1/weights", [1, 1, 256, 1001]),
                    ("MobilenetV1/Logits/Conv2d_1c_1x1/biases", [1001])]
PUBLISHED_COUNTS = {  # variables, trainable variables, regularisation losses: [tfslim], [export]
    "feature_vector": (135, 81, 14), "classification": (137, 83, 15)}
PUBLISHED_OUTPUT = {"feature_vector": 256, "classification": 1001}         # [card], [api]
PUBLISHED_MOMENTUM = 0.99                                                  # [card]
PUBLISHED_WEIGHT_DECAY = 4e-5                                              # [slim]
PUBLISHED_EPSILON = 1e-3                                                   # [slim]


@pytest.fixture
def hub_home(tmp_path, monkeypatch, mirror):
    """An empty EDGELAB_HOME (the builds land here), weights from the mirror, no network,
    an empty TF Hub cache."""
    monkeypatch.setenv("EDGELAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    monkeypatch.setenv("EDGELAB_OFFLINE", "1")
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def _module_home(tmp_path_factory):
    return tmp_path_factory.mktemp("hub-home")


@pytest.fixture
def shared_hub_home(_module_home, tmp_path, monkeypatch, mirror):
    """Like ``hub_home``, but one home for the tests here that only load the modules: each
    module is built (a few seconds) the first time a test resolves it, and is the same
    whichever test that is. The tests of building, caching and resolving use ``hub_home``."""
    monkeypatch.setenv("EDGELAB_HOME", str(_module_home))
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    monkeypatch.setenv("EDGELAB_OFFLINE", "1")
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub"))
    return _module_home


def _fake_saved_model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"not really a graph; resolution only checks the name")
    return folder


def _image(name: str, size: int) -> np.ndarray:
    from edgelab.datasets import samples

    return hub.to_hub_input(samples.load_image(name), size).numpy()


def _keras_mobilenet(with_top: bool, size: int):
    import keras

    from edgelab.datasets import samples

    model = keras.applications.MobileNet(
        input_shape=(size, size, 3), alpha=0.25, include_top=with_top, weights=None,
        pooling=None if with_top else "avg", classifier_activation=None)
    model.load_weights(samples.mobilenet_weights(include_top=with_top))
    return model


# --------------------------------------------------------------------------- the builds

def test_classification_module_reproduces_keras_with_background_first(shared_hub_home):
    import tensorflow as tf

    from edgelab.datasets import samples

    path = hub.resolve_handle(hub.CLASSIFIER_HANDLE)
    assert Path(path) == shared_hub_home / "hub" / "mobilenet_v1_025_128_classification"
    module = tf.saved_model.load(path)
    x = np.concatenate([_image("grace_hopper.jpg", 128), _image("chelsea.png", 128),
                        np.random.default_rng(0).random((2, 128, 128, 3), np.float32)])
    logits = module(x, training=False).numpy()
    keras_logits = _keras_mobilenet(True, 128)(x * 2.0 - 1.0).numpy()   # Keras wants [-1, 1]
    assert logits.shape == (4, 1001)
    np.testing.assert_allclose(logits[:, 1:], keras_logits, rtol=1e-5, atol=1e-4)
    assert np.all(logits[:, 0] == hub_models.BACKGROUND_LOGIT)
    probs = tf.nn.softmax(logits).numpy()
    np.testing.assert_allclose(probs[:, 1:], tf.nn.softmax(keras_logits).numpy(), rtol=1e-4, atol=5e-6)
    assert np.all(probs[:, 0] == 0.0)
    labels = samples.imagenet_labels()
    assert hub.top_k(logits[0], labels, 1)[0][0] == "bow tie"        # Grace Hopper
    assert hub.top_k(logits[1], labels, 1)[0][0] == "Egyptian cat"   # Chelsea
    # the serving signature gives the same logits
    served = module.signatures["serving_default"](images=tf.constant(x))["logits"].numpy()
    np.testing.assert_allclose(served, logits, atol=1e-5)


@pytest.mark.parametrize("handle, with_top, size", [
    (hub.FEATURE_VECTOR_HANDLE, True, 128),
    (hub.FEATURE_VECTOR_HANDLES[224], False, 224),
])
def test_feature_vector_modules_reproduce_keras(shared_hub_home, handle, with_top, size):
    import tensorflow as tf

    module = tf.saved_model.load(hub.resolve_handle(handle))
    x = np.random.default_rng(1).random((3, size, size, 3), np.float32)
    feats = module(x, training=False).numpy()
    assert feats.shape == (3, hub_models.FEATURE_DIM)
    backbone = _keras_mobilenet(with_top, size)
    if with_top:   # the 128-px classifier's backbone, pooled: Keras' layer before the top
        import keras

        backbone = keras.Model(backbone.input, backbone.get_layer("conv_pw_13_relu").output)
        ref = backbone(x * 2.0 - 1.0).numpy().mean(axis=(1, 2))
    else:
        ref = backbone(x * 2.0 - 1.0).numpy()
    np.testing.assert_allclose(feats, ref, rtol=1e-5, atol=1e-5)
    # other input sizes work too, as with TF Hub's MobileNets
    assert module(x[:, :96, :96], training=False).shape == (3, 256)


@pytest.mark.parametrize("handle, kind", [(hub.FEATURE_VECTOR_HANDLE, "feature_vector"),
                                          (hub.CLASSIFIER_HANDLE, "classification")])
def test_offline_build_has_the_published_variables_in_order(shared_hub_home, handle, kind):
    import tensorflow as tf

    module = tf.saved_model.load(hub.resolve_handle(handle))
    got = [(v.name.removesuffix(":0"), v.shape.as_list()) for v in module.variables]
    n_vars, n_trainable, n_losses = PUBLISHED_COUNTS[kind]
    assert len(got) == n_vars
    assert got[:6] == PUBLISHED_FIRST_LAYER
    last = PUBLISHED_LAST_LAYERS + (PUBLISHED_LOGITS if kind == "classification" else [])
    assert got[-len(last):] == last
    assert [n for n, _ in got] == hub_models.published_variable_names(kind)
    # every layer: its weights, then gamma, beta, moving_mean, moving_variance (TF-Slim's order)
    for i in range(0, 135, 5):
        assert [n.rsplit("/", 1)[-1] for n, _ in got[i:i + 5]][1:] == [
            "gamma", "beta", "moving_mean", "moving_variance"], got[i][0]
    # depth order: Conv2d_0, then Conv2d_1_depthwise, Conv2d_1_pointwise, ... Conv2d_13_pointwise
    layers = [n.rsplit("/", 1)[0] for n, _ in got[:135:5]]
    assert layers == ["MobilenetV1/Conv2d_0"] + [f"MobilenetV1/Conv2d_{i}_{part}"
                                                 for i in range(1, 14)
                                                 for part in ("depthwise", "pointwise")]
    trainable = [v.name for v in module.trainable_variables]
    assert len(trainable) == n_trainable
    assert trainable == [v.name for v in module.variables if "moving_" not in v.name]
    assert all(v.trainable for v in module.trainable_variables)

    # regularisation: 4e-5 * l2_loss of every regular convolution's weights, none depthwise
    losses = list(module.regularization_losses)
    assert len(losses) == n_losses
    regularized = [v for v in module.variables if v.name.endswith("/weights:0")
                   and "_depthwise/" not in v.name]
    assert len(regularized) == n_losses
    for loss, w in zip(losses, regularized):
        np.testing.assert_allclose(float(loss()),
                                   PUBLISHED_WEIGHT_DECAY * 0.5 * np.sum(w.numpy() ** 2), rtol=1e-5)


def test_offline_build_has_the_published_call(shared_hub_home):
    import tensorflow as tf

    module = tf.saved_model.load(hub.resolve_handle(hub.FEATURE_VECTOR_HANDLE))
    x = np.random.default_rng(2).random((8, 64, 64, 3), np.float32)
    var = {v.name.removesuffix(":0"): v for v in module.variables}
    mean = var["MobilenetV1/Conv2d_0/BatchNorm/moving_mean"]
    kernel = var["MobilenetV1/Conv2d_0/weights"]
    before = mean.numpy().copy()

    import inspect

    params = inspect.signature(module.__call__).parameters       # [api], [card]
    assert [(n, p.default) for n, p in list(params.items())[1:]] == [
        ("training", False), ("batch_norm_momentum", PUBLISHED_MOMENTUM)]
    plain = module(x)                                   # training defaults to False
    assert plain.shape == (8, PUBLISHED_OUTPUT["feature_vector"]) and plain.dtype == tf.float32
    np.testing.assert_array_equal(module(x, training=False).numpy(), plain.numpy())
    np.testing.assert_array_equal(module(x, training=False, batch_norm_momentum=0.5).numpy(),
                                  plain.numpy())       # momentum only matters when training
    np.testing.assert_array_equal(mean.numpy(), before)
    # edgelab's old argument is not part of the interface: the module refuses it
    with pytest.raises((TypeError, ValueError)):
        module(x, training=True, batch_norm_training=False)

    # training=True: batch statistics, moving mean <- m * mean + (1 - m) * batch mean
    conv = tf.nn.conv2d(x * 2.0 - 1.0, kernel, 2, "SAME").numpy().mean(axis=(0, 1, 2))
    trained = module(x, training=True).numpy()
    assert not np.allclose(trained, plain.numpy(), atol=1e-3)
    m = PUBLISHED_MOMENTUM
    np.testing.assert_allclose(mean.numpy(), m * before + (1 - m) * conv, rtol=1e-5, atol=1e-6)
    after = mean.numpy().copy()
    module(x, training=True, batch_norm_momentum=0.997)
    np.testing.assert_allclose(mean.numpy(), 0.997 * after + 0.003 * conv, rtol=1e-5, atol=1e-6)
    assert hub_models.BATCH_NORM_MOMENTUM == PUBLISHED_MOMENTUM
    assert hub_models.BATCH_NORM_EPSILON == PUBLISHED_EPSILON

    # TF-Slim pads SAME: odd sizes work and the output size does not depend on the input size
    assert module(x[:, :63, :57], training=False).shape == (8, 256)
    sig = module.signatures["serving_default"]
    assert sig.structured_input_signature[1]["images"].shape.as_list() == [None, None, None, 3]


def test_builds_are_cached_rebuilt_when_stale_and_atomic(hub_home, monkeypatch):
    name = "mobilenet_v1_025_128_feature_vector"
    path = hub_models.build(name)
    info = json.loads((path / hub_models.BUILD_INFO).read_text())
    assert info["weights"] == "mobilenet_2_5_128_tf.h5" and info["kind"] == "feature_vector"
    stamp = (path / "saved_model.pb").stat().st_mtime_ns
    assert hub_models.build(name) == path
    assert (path / "saved_model.pb").stat().st_mtime_ns == stamp          # not rebuilt

    # a build from an older version of the code is replaced
    (path / hub_models.BUILD_INFO).write_text(json.dumps({"build_version": 0}))
    assert not hub_models.is_built(name)
    hub_models.build(name)
    assert hub_models.is_built(name)

    # an interrupted build leaves neither a module nor a temporary folder behind
    other = "mobilenet_v1_025_128_classification"

    def crash(net, directory):
        (Path(directory) / "saved_model.pb").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(hub_models, "save_reusable", crash)
    with pytest.raises(KeyboardInterrupt):
        hub_models.build(other)
    assert not hub_models.module_dir(other).exists()
    assert sorted(p.name for p in (hub_home / "hub").iterdir()) == [name]


def test_unknown_module_and_bad_weight_file(hub_home, tmp_path):
    with pytest.raises(hub_models.HubBuildError, match="unknown edgelab Hub module 'resnet'"):
        hub_models.build("resnet")
    bad = tmp_path / "weights.h5"
    bad.write_bytes(b"this is not HDF5")
    with pytest.raises(hub_models.HubBuildError, match="weights.h5: not a readable Keras"):
        hub_models.read_keras_weights(bad)
    from edgelab.datasets import samples

    no_top = hub_models.read_keras_weights(samples.mobilenet_weights(include_top=False))
    with pytest.raises(hub_models.HubBuildError, match="lack layers \\['conv_preds'\\]"):
        hub_models.build_network("classification", no_top)
    with pytest.raises(ValueError, match="kind must be"):
        hub_models.build_network("detection", no_top)


# --------------------------------------------------------------------------- resolution

def test_cache_key_is_tensorflow_hubs(hub_home, tmp_path):
    from tensorflow_hub import compressed_module_resolver

    for handle in (hub.CLASSIFIER_HANDLE, UNKNOWN):
        assert Path(compressed_module_resolver._module_dir(handle)) == \
            tmp_path / "tfhub" / hashlib.sha1(handle.encode()).hexdigest() == \
            hub.hub_cache_dir() / hub.cache_key(handle)


def test_handles_learners_find_today(hub_home):
    kaggle = "https://www.kaggle.com/models/google/mobilenet-v1/TensorFlow2/"
    assert hub.CLASSIFIER_HANDLE == kaggle + "025-128-classification/2"
    assert hub.FEATURE_VECTOR_HANDLES == {128: kaggle + "025-128-feature-vector/2",
                                          224: kaggle + "025-224-feature-vector/2"}
    assert hub.feature_vector_handle(224) == hub.FEATURE_VECTOR_HANDLES[224]   # 224 px -> 224
    with pytest.raises(ValueError, match="published for 128 and 224 px inputs, not 160"):
        hub.feature_vector_handle(160)
    # the old tfhub.dev name, Kaggle's long URL form and another spelling find the same build
    path = hub.resolve_handle(hub.FEATURE_VECTOR_HANDLES[224])
    for alias in (TFHUB_224,
                  "https://www.kaggle.com/models/google/mobilenet-v1/frameworks/TensorFlow2/"
                  "variations/025-224-feature-vector/versions/2",
                  "https://www.kaggle.com/models/google/mobilenet-v1/tensorFlow2/025-224-feature-vector/2/"):
        r = hub.resolve(alias)
        assert (r.source, r.path) == ("edgelab build", path), alias
    assert Path(path).name == "mobilenet_v1_025_224_feature_vector"


def test_resolution_order(hub_home, tmp_path, monkeypatch):
    # 1. a local folder wins
    local = _fake_saved_model(tmp_path / "my_model")
    r = hub.resolve(str(local))
    assert (r.source, r.path) == ("local folder", str(local))
    assert hub.resolve(local).path == str(local)                  # PathLike accepted

    # 2. the TF Hub cache beats edgelab's build of a known handle (and a download)
    cached = _fake_saved_model(tmp_path / "tfhub" / hub.cache_key(hub.CLASSIFIER_HANDLE))
    r = hub.resolve(hub.CLASSIFIER_HANDLE + "/?tf-hub-format=compressed")   # normalized
    assert (r.source, r.path) == ("TF Hub cache", str(cached))
    assert [x.place for x in r.looked] == ["local folder", "TF Hub cache"]   # the raw handle's
    assert hub.resolve(hub.CLASSIFIER_HANDLE).looked[-1].place == "local folder"

    # 3. the canonical URL when online: tensorflow_hub.resolve does the download
    import tensorflow_hub

    calls = []
    downloaded = _fake_saved_model(tmp_path / "downloaded")
    monkeypatch.setattr(hub_handles, "reachable", lambda url, timeout=5.0: (True, ""))
    monkeypatch.setattr(tensorflow_hub, "resolve", lambda h: calls.append(h) or str(downloaded))
    r = hub.resolve(hub.FEATURE_VECTOR_HANDLE, online=True)
    assert (r.source, r.path, calls) == ("download", str(downloaded), [hub.FEATURE_VECTOR_HANDLE])
    assert [x.place for x in r.looked] == ["local folder", "TF Hub cache"]

    # ... never when offline (EDGELAB_OFFLINE=1 here): 4. edgelab's own build
    r = hub.resolve(hub.FEATURE_VECTOR_HANDLE)
    assert r.source == "edgelab build" and calls == [hub.FEATURE_VECTOR_HANDLE]
    assert [(x.place, x.outcome) for x in r.looked][-1] == ("download", "skipped (EDGELAB_OFFLINE=1)")
    assert Path(r.path) == hub_models.module_dir("mobilenet_v1_025_128_feature_vector")


def test_unreachable_handle_lists_every_place_and_the_fix(hub_home, tmp_path, monkeypatch):
    monkeypatch.setattr(hub_handles, "reachable",
                        lambda url, timeout=5.0: (False, "tfhub.dev:443 is not reachable (no DNS)"))
    with pytest.raises(hub.HubHandleError) as err:
        hub.resolve_handle(UNKNOWN, online=True)
    message = str(err.value)
    assert [x.place for x in err.value.looked] == ["local folder", "TF Hub cache", "download",
                                                   "edgelab build"]
    for expected in (UNKNOWN, "Looked in:", str(tmp_path / "tfhub" / hub.cache_key(UNKNOWN)),
                     "not reachable (no DNS)", "TFHUB_CACHE_DIR", "Kaggle", "EDGELAB_MIRROR",
                     "saved_model.pb", hub.CLASSIFIER_HANDLE):
        assert expected in message, expected
    shown = err.value.shown()      # for notebooks: no path of this machine
    assert str(tmp_path) not in shown and hub.cache_key(UNKNOWN) in shown
    assert shown.splitlines()[0] == message.splitlines()[0]

    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(hub.HubHandleError, match="empty: exists but holds no saved_model.pb"):
        hub.resolve_handle(str(folder))
    with pytest.raises(hub.HubHandleError, match="missing: does not exist"):
        hub.resolve_handle(str(tmp_path / "missing"))
    with pytest.raises(hub.HubHandleError, match=r"skipped \(build=False\)"):
        hub.resolve_handle(hub.CLASSIFIER_HANDLE, build=False)
    with pytest.raises(TypeError, match="URL or a folder path"):
        hub.resolve_handle(None)
    with pytest.raises(ValueError, match="handle is empty"):
        hub.resolve_handle("  ")


def test_known_handle_without_weights_explains_the_mirror(home, tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub"))
    with pytest.raises(hub.HubHandleError, match="MobileNet weights are not available") as err:
        hub.resolve_handle(hub.CLASSIFIER_HANDLE)
    assert "EDGELAB_MIRROR" in str(err.value)


def test_top_blocks_by_published_names_in_depth_order(hub_home):
    assert hub.top_blocks(1) == ["MobilenetV1/Conv2d_13_depthwise", "MobilenetV1/Conv2d_13_pointwise"]
    assert hub.top_blocks(0) == []
    assert len(hub.top_blocks(13)) == 26 and hub.top_blocks(13)[0] == "MobilenetV1/Conv2d_1_depthwise"
    with pytest.raises(ValueError, match="13 blocks; num_blocks must be 0..13, got 14"):
        hub.top_blocks(14)
    assert hub.block_of("MobilenetV1/Conv2d_0/weights:0") == 0
    assert hub.block_of("MobilenetV1/Conv2d_7_depthwise/BatchNorm/beta:0") == 7
    assert hub.block_of("module/MobilenetV1/Conv2d_13_pointwise/weights") == 13
    assert hub.block_of("MobilenetV1/Logits/Conv2d_1c_1x1/biases:0") == 14
    assert hub.block_of("conv_pw_13/kernel:0") is None

    net = hub_models.build_network("feature_vector")
    variables = net.ordered_variables(trainable_only=True)
    chosen = hub.select_variables(variables, hub.top_blocks(2))
    assert [v.name for v in chosen][:3] == ["MobilenetV1/Conv2d_12_depthwise/depthwise_weights:0",
                                            "MobilenetV1/Conv2d_12_depthwise/BatchNorm/gamma:0",
                                            "MobilenetV1/Conv2d_12_depthwise/BatchNorm/beta:0"]
    assert {hub.block_of(v.name) for v in chosen} == {12, 13}
    assert chosen == [v for v in variables if hub.block_of(v.name) >= 12]   # depth order kept
    assert len(chosen) == 2 * 6 and hub.count_params(chosen) == (
        3 * 3 * 128 + 128 * 256 + 3 * 3 * 256 + 256 * 256 + 2 * 128 + 3 * 2 * 256)
    assert hub.select_variables(variables, []) == []
    # a module with other names (edgelab's old Keras-named build, another model) fails loudly
    import tensorflow as tf

    other = [tf.Variable(tf.zeros([1]), name="conv_pw_13/kernel")]
    with pytest.raises(ValueError, match="not name its variables like TF-Slim's MobileNet v1"):
        hub.select_variables(other, hub.top_blocks(2))


def test_accuracy_standard_error():
    assert hub.accuracy_standard_error(0.85, 340) == pytest.approx(np.sqrt(0.85 * 0.15 / 340))
    assert hub.accuracy_standard_error(1.0, 10) == 0.0
    with pytest.raises(ValueError, match="at least one test image"):
        hub.accuracy_standard_error(0.5, 0)
    with pytest.raises(ValueError, match="fraction in \\[0, 1\\]"):
        hub.accuracy_standard_error(85.0, 340)


def test_image_input_and_top_k():
    image = np.zeros((60, 100, 3), np.uint8)
    image[:, 20:80] = 255                     # the central 60x60 square is white
    x = hub.to_hub_input(image, 32).numpy()
    assert x.shape == (1, 32, 32, 3) and x.dtype == np.float32 and x.min() > 0.999
    with pytest.raises(ValueError, match=r"RGB image \(H, W, 3\), got shape \(60, 100\)"):
        hub.to_hub_input(image[..., 0], 32)
    labels = ["background", "cat", "dog"]
    top = hub.top_k([0.0, 2.0, 1.0], labels, 2)
    assert [name for name, _ in top] == ["cat", "dog"]
    assert top[0][1] == pytest.approx(np.exp(2) / (1 + np.exp(1) + np.exp(2)))
    with pytest.raises(ValueError, match="3 logits but 2 labels"):
        hub.top_k([0.0, 2.0, 1.0], labels[:2])


def test_legacy_keras_is_required_for_keras_layer_helpers():
    with pytest.raises(RuntimeError, match="TF_USE_LEGACY_KERAS=1 before TensorFlow"):
        hub.require_legacy_keras()


# --------------------------------------------------------------------------- tf_keras

_TF_KERAS_SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    import tensorflow as tf, tf_keras, tensorflow_hub as hub
    from edgelab import hub as eh
    from edgelab.datasets import flowers17, samples

    out = {}
    size = 96
    tf_keras.utils.set_random_seed(0)   # the new head's weights and the fit's shuffling
    files, labels = flowers17.load("train")
    pick = [i for i in range(len(files)) if i % 40 < 2][:16]          # 2 images of 8 classes
    x, y = next(iter(flowers17.dataset([files[i] for i in pick], labels[pick],
                                       image_size=size, batch_size=16)))

    clf = tf_keras.Sequential([hub.KerasLayer(eh.resolve_handle(eh.CLASSIFIER_HANDLE),
                                              input_shape=(128, 128, 3))])
    img = eh.to_hub_input(samples.load_image("grace_hopper.jpg"), 128)
    out["classifier_shape"] = clf.output_shape
    out["grace_hopper"] = eh.top_k(clf(img)[0], samples.imagenet_labels(), 1)[0][0]

    layer = hub.KerasLayer(eh.resolve_handle(eh.FEATURE_VECTOR_HANDLE), trainable=False)
    model = tf_keras.Sequential([tf_keras.Input((size, size, 3)), layer,
                                 tf_keras.layers.Dense(17)])
    out["features_shape"] = model.layers[0].compute_output_shape((None, size, size, 3)).as_list()
    out["frozen_trainable"] = len(model.trainable_variables)
    layer.trainable = True
    chosen = eh.select_variables(layer.trainable_variables, eh.top_blocks(2))
    chosen += model.layers[-1].trainable_variables
    before = {v.name: v.numpy().copy() for v in layer.variables}
    tuner = eh.top_fine_tuner(model, chosen)
    tuner.compile(tf_keras.optimizers.SGD(0.1),
                  tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    tuner.fit(x, y, epochs=2, batch_size=16, verbose=0)
    changed = {v.name for v in layer.variables if not np.array_equal(before[v.name], v.numpy())}
    want = {v.name for v in chosen[:-2]}
    moving = {v.name for v in layer.variables if "moving" in v.name}
    out["chosen_changed"] = want <= changed
    out["others_changed"] = sorted(changed - want - moving)
    out["moving_changed"] = len(changed & moving)

    dest = sys.argv[1]
    eh.save_for_deployment(model, dest + "/flowers_hub_savedmodel", size)
    eh.save_h5(model, dest + "/flowers_hub.h5")
    reloaded = tf_keras.models.load_model(dest + "/flowers_hub.h5",
                                          custom_objects={"KerasLayer": hub.KerasLayer})
    np.save(dest + "/x.npy", x.numpy())
    np.save(dest + "/logits.npy", model.predict(x, verbose=0))
    out["h5_same"] = bool(np.allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0),
                                      atol=1e-5))
    try:
        eh.top_fine_tuner(model, [])
    except ValueError as err:
        out["empty_error"] = str(err)

    # the published fine-tuning call (model card): trainable, batch norm momentum 0.997
    loss = tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    layer = hub.KerasLayer(eh.resolve_handle(eh.FEATURE_VECTOR_HANDLE), trainable=True,
                           arguments=dict(batch_norm_momentum=0.997))
    model = tf_keras.Sequential([tf_keras.Input((size, size, 3)), layer, tf_keras.layers.Dense(17)])
    model.compile(tf_keras.optimizers.SGD(0.01), loss)
    var = {v.name: v for v in layer.variables}
    mean, w0 = (var["MobilenetV1/Conv2d_0/BatchNorm/moving_mean:0"],
                var["MobilenetV1/Conv2d_0/weights:0"])
    mean0, w00 = mean.numpy().copy(), w0.numpy().copy()
    batch_mean = tf.nn.conv2d(x * 2.0 - 1.0, w0, 2, "SAME").numpy().mean(axis=(0, 1, 2))
    regularized = [v for v in layer.trainable_variables
                   if v.name.endswith("/weights:0") and "_depthwise/" not in v.name]
    out["regularization_losses"] = len(model.losses)
    out["regularization_sum_ok"] = bool(np.isclose(
        float(tf.add_n(model.losses)),
        sum(4e-5 * 0.5 * float(np.sum(v.numpy() ** 2)) for v in regularized), rtol=1e-5))
    model.train_on_batch(x, y)
    out["momentum_0997"] = bool(np.allclose(mean.numpy(), 0.997 * mean0 + 0.003 * batch_mean,
                                            rtol=1e-5, atol=1e-6))
    out["trained_weights"] = not np.array_equal(w0.numpy(), w00)
    frozen = hub.KerasLayer(eh.resolve_handle(eh.FEATURE_VECTOR_HANDLE), trainable=False)
    out["frozen_losses"] = sum(float(v) for v in tf_keras.Sequential(   # hub: 0 unless trainable
        [tf_keras.Input((size, size, 3)), frozen]).losses)

    # the lesson's recipe: weights train, batch norm keeps its statistics (training=False)
    layer = hub.KerasLayer(eh.resolve_handle(eh.FEATURE_VECTOR_HANDLE), trainable=True)
    inputs = tf_keras.Input((size, size, 3))
    model = tf_keras.Model(inputs, tf_keras.layers.Dense(17)(layer(inputs, training=False)))
    model.compile(tf_keras.optimizers.SGD(0.01), loss)
    before = {v.name: v.numpy().copy() for v in layer.variables}
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    changed = {v.name for v in layer.variables if not np.array_equal(before[v.name], v.numpy())}
    out["bn_frozen_moving_changed"] = sorted(n for n in changed if "moving" in n)
    out["bn_frozen_weights_changed"] = len(changed)
    print("RESULT" + json.dumps(out))
''')


def test_keras_layer_fine_tuning_and_saving_in_tf_keras(shared_hub_home, tmp_path):
    """One subprocess with TF_USE_LEGACY_KERAS=1: classify, fine-tune the top, save, reload."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", _TF_KERAS_SCRIPT, str(tmp_path)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT"):])
    assert out["classifier_shape"] == [None, 1001]
    assert out["grace_hopper"] == "bow tie"
    assert out["features_shape"] == [None, 256]
    assert out["frozen_trainable"] == 2                      # the head's kernel and bias
    assert out["chosen_changed"] and out["others_changed"] == []
    assert out["moving_changed"] > 0                         # batch norm ran in training mode
    assert out["h5_same"]
    assert "at least one variable" in out["empty_error"]
    # hub.KerasLayer(<feature vector>, trainable=True, arguments=dict(batch_norm_momentum=0.997))
    assert out["regularization_losses"] == PUBLISHED_COUNTS["feature_vector"][2]
    assert out["regularization_sum_ok"] and out["frozen_losses"] == 0.0
    assert out["momentum_0997"] and out["trained_weights"]
    assert out["bn_frozen_moving_changed"] == [] and out["bn_frozen_weights_changed"] == 81

    # notebook 07 converts the SavedModel in a Keras 3 process: check that works here
    import tensorflow as tf

    saved = tmp_path / "flowers_hub_savedmodel"
    loaded = tf.saved_model.load(str(saved))
    sig = loaded.signatures["serving_default"]
    spec = sig.structured_input_signature[1]["images"]
    assert spec.shape.as_list() == [None, 96, 96, 3] and spec.dtype == tf.float32
    x, logits = np.load(tmp_path / "x.npy"), np.load(tmp_path / "logits.npy")
    np.testing.assert_allclose(sig(images=tf.constant(x))["logits"].numpy(), logits, atol=1e-4)
    tflite = tf.lite.TFLiteConverter.from_saved_model(str(saved)).convert()
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=tflite)
    interp.resize_tensor_input(interp.get_input_details()[0]["index"], x.shape)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    lite = interp.get_tensor(interp.get_output_details()[0]["index"])
    np.testing.assert_allclose(lite, logits, atol=1e-3)
    assert not list(tmp_path.glob(".flowers_hub*"))   # no temporary folder or file left
