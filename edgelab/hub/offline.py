"""MobileNet v1 (alpha 0.25) Hub modules built offline, with the published modules' interface.

Notebook 05 uses TensorFlow Hub's real API, ``hub.KerasLayer(handle)``, but the machines it
runs on in CI cannot reach Kaggle Models (where tfhub.dev now redirects). The data layer
does have the Keras ImageNet weights of the same network (``samples.mobilenet_weights``),
so this module writes them out as *reusable SavedModels* that present the interface of the
published TF2 modules ``google/imagenet/mobilenet_v1_025_{128,224}/{classification,
feature_vector}/5``. Lesson code written against one runs unchanged on the other. What
"the same interface" means here, with where each fact comes from (``tests/test_hub.py``
checks every one of them against the build, so it cannot drift):

* **the call**: ``module(images, training=False, batch_norm_momentum=0.99)``. ``images`` is
  float32 ``[batch, height, width, 3]`` in [0, 1] (the module rescales to MobileNet's
  [-1, 1] itself; other sizes than the trained one work). ``training=True`` runs batch norm
  on the batch's statistics and updates its moving averages with momentum
  ``batch_norm_momentum`` (default 0.99, "to accelerate training on small datasets"), which
  is the only hyper-parameter the published modules take. (Model cards, tensorflow/tfhub.dev
  ``assets/docs/google/models/imagenet/mobilenet_v1_025_128/feature_vector/5.md``; the
  Reusable SavedModel API, tensorflow/hub ``docs/reusable_saved_models.md``.)
* **the output**: float32 ``[batch, 256]`` for ``feature_vector``; float32 ``[batch, 1001]``
  logits for ``classification``, index 0 being "background" (same model cards).
* **the variables**: TF-Slim's names, because the published modules were exported from
  TF-Slim checkpoints (model card: "uses the TF-Slim implementation of mobilenet_v1_025";
  tensorflow/models ``research/slim/nets/mobilenet_v1.py``): ``MobilenetV1/Conv2d_0/weights``,
  then for block i = 1..13 ``MobilenetV1/Conv2d_<i>_depthwise/depthwise_weights`` and
  ``MobilenetV1/Conv2d_<i>_pointwise/weights``, each layer followed by its
  ``BatchNorm/gamma``, ``BatchNorm/beta``, ``BatchNorm/moving_mean`` and
  ``BatchNorm/moving_variance``; the classifier is ``MobilenetV1/Logits/Conv2d_1c_1x1/``
  ``weights`` (1x1x256x1001) and ``biases``. ``variables`` lists them in the order TF-Slim
  creates them, input to output (the Reusable SavedModel API says ``variables`` mirrors
  TF1's ``GLOBAL_VARIABLES`` collection, which is creation order); ``trainable_variables``
  are the same without the two moving statistics per layer.
* **the regularisation losses**: TF-Slim's MobileNet v1 arg scope puts an L2 regulariser
  (``weight_decay=4e-5`` times ``tf.nn.l2_loss``) on every regular convolution's weights
  (``Conv2d_0``, the 13 pointwise ones and the classifier), none on the depthwise ones
  (``regularize_depthwise=False``), and TF1 Hub modules were exported with that graph's
  ``REGULARIZATION_LOSSES`` collection (tensorflow/hub ``docs/exporting_hub_format.md``);
  so ``regularization_losses`` holds 14 zero-argument functions (15 with the classifier).

Two things differ from the download, on purpose or by necessity: the weights are the Keras
release's (converted from TF-Slim's 2017 checkpoints; the published modules hold the
2018-02-22 ones), and the classifier's background unit, which the Keras weights dropped, is
a zero weight column with bias :data:`BACKGROUND_LOGIT` (-1e4): far below any real logit, so
top-k and the softmax over the real classes are exactly the Keras model's, and background
gets probability 0 instead of a made-up score.

The network is written with plain TensorFlow ops (no Keras objects in the SavedModel), so
it loads the same under Keras 3 and under tf_keras, and uses TF-Slim's ``SAME`` padding.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgelab.core import paths
from edgelab.core.atomic import replace_dir

ALPHA = 0.25
BACKGROUND_LOGIT = -1e4
BATCH_NORM_MOMENTUM = 0.99  # the published modules' default (model card, "Fine-tuning")
BATCH_NORM_EPSILON = 1e-3   # TF-Slim's mobilenet_v1_arg_scope (and Keras MobileNet) epsilon
WEIGHT_DECAY = 4e-5         # TF-Slim's mobilenet_v1_arg_scope weight_decay
FEATURE_DIM = 256           # 1024 * ALPHA channels after the last block
NUM_CLASSES = 1001          # ImageNet + background, TF-Hub order
BUILD_VERSION = 3           # bump when the module's code changes: cached builds are rebuilt
BUILD_INFO = "edgelab_build.json"
SCOPE = "MobilenetV1"
LOGITS = f"{SCOPE}/Logits/Conv2d_1c_1x1"

# The 13 depthwise-separable blocks of MobileNet v1: (pointwise filters at alpha 1, stride).
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
          (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
STEM_FILTERS = 32
BATCH_NORM_PARAMS = ("gamma", "beta", "moving_mean", "moving_variance")  # TF-Slim's order


@dataclass(frozen=True)
class Layer:
    """One convolution of the network, with its TF-Slim scope and its Keras layer names."""

    scope: str        # "MobilenetV1/Conv2d_3_pointwise"
    kind: str         # "conv" (the stem), "depthwise" or "pointwise"
    block: int        # 0 for the stem, 1..13 for the depthwise-separable blocks
    stride: int
    keras: str        # "conv_pw_3": the Keras layer that holds the same weights
    keras_bn: str     # "conv_pw_3_bn"

    @property
    def weights(self) -> str:
        return "depthwise_weights" if self.kind == "depthwise" else "weights"


def layers() -> list[Layer]:
    """The 27 convolutions of MobileNet v1 in depth order (input to output)."""
    out = [Layer(f"{SCOPE}/Conv2d_0", "conv", 0, 2, "conv1", "conv1_bn")]
    for i, (_, stride) in enumerate(BLOCKS, 1):
        out.append(Layer(f"{SCOPE}/Conv2d_{i}_depthwise", "depthwise", i, stride,
                         f"conv_dw_{i}", f"conv_dw_{i}_bn"))
        out.append(Layer(f"{SCOPE}/Conv2d_{i}_pointwise", "pointwise", i, 1,
                         f"conv_pw_{i}", f"conv_pw_{i}_bn"))
    return out


def published_variable_names(kind: str) -> list[str]:
    """The variable names of the published module of ``kind``, in the published order."""
    names = []
    for layer in layers():
        names.append(f"{layer.scope}/{layer.weights}")
        names += [f"{layer.scope}/BatchNorm/{p}" for p in BATCH_NORM_PARAMS]
    if kind == "classification":
        names += [f"{LOGITS}/weights", f"{LOGITS}/biases"]
    return names


@dataclass(frozen=True)
class ModuleSpec:
    """One module edgelab can build: its name, what it outputs and which weights it uses."""

    name: str
    kind: str          # "classification" or "feature_vector"
    with_top: bool     # which Keras weight file: samples.mobilenet_weights(include_top=...)
    image_size: int    # the size the weights were trained at (any size >= 32 works)
    about: str


MODULES = {
    "mobilenet_v1_025_128_classification": ModuleSpec(
        "mobilenet_v1_025_128_classification", "classification", True, 128,
        "Keras mobilenet_2_5_128_tf.h5 (ImageNet, 128 px): 1001 logits, background first"),
    "mobilenet_v1_025_128_feature_vector": ModuleSpec(
        "mobilenet_v1_025_128_feature_vector", "feature_vector", True, 128,
        "Keras mobilenet_2_5_128_tf.h5 (ImageNet, 128 px) without its top: 256-d pooled features"),
    "mobilenet_v1_025_224_feature_vector": ModuleSpec(
        "mobilenet_v1_025_224_feature_vector", "feature_vector", False, 224,
        "Keras mobilenet_2_5_224_tf_no_top.h5 (ImageNet, 224 px): 256-d pooled features"),
}


class HubBuildError(RuntimeError):
    """A Hub module could not be built (unknown name, unreadable weights)."""


# --------------------------------------------------------------------------- weights

def read_keras_weights(h5_path: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    """Weights of a Keras ``.h5`` weight file by layer and parameter name.

    ``{"conv1": {"kernel": array}, "conv1_bn": {"gamma": ..., "moving_mean": ...}, ...}``.
    Read with h5py, so it works in a tf_keras process and a Keras 3 process alike.
    """
    import h5py

    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        with h5py.File(h5_path, "r") as f:
            for layer in f.attrs["layer_names"]:
                layer = layer.decode() if isinstance(layer, bytes) else layer
                group = f[layer]
                for wname in group.attrs.get("weight_names", []):
                    wname = wname.decode() if isinstance(wname, bytes) else wname
                    param = wname.rsplit("/", 1)[-1].split(":")[0]
                    out.setdefault(layer, {})[param] = np.asarray(group[wname])
    except (OSError, KeyError) as err:
        raise HubBuildError(f"{h5_path}: not a readable Keras weight file ({err}); "
                            "re-fetch it with: edgelab data fetch mobilenet_v1_025") from None
    return out


def slim_weights(keras: dict[str, dict[str, np.ndarray]], kind: str) -> dict[str, np.ndarray]:
    """Keras MobileNet weights renamed to the published (TF-Slim) names, in published order.

    The classifier gets a background column in front of the 1000 Keras classes: weights 0,
    bias :data:`BACKGROUND_LOGIT`.
    """
    if kind not in ("classification", "feature_vector"):
        raise ValueError(f"kind must be 'classification' or 'feature_vector', got {kind!r}")
    needed = [n for layer in layers() for n in (layer.keras, layer.keras_bn)]
    needed += ["conv_preds"] if kind == "classification" else []
    missing = [n for n in needed if n not in keras]
    if missing:
        raise HubBuildError(f"the Keras weights lack layers {missing[:4]}; a {kind} module "
                            "needs MobileNet v1 0.25 weights"
                            + (" with the classifier top (include_top=True)"
                               if kind == "classification" else ""))
    out: dict[str, np.ndarray] = {}
    for layer in layers():
        kernel = "depthwise_kernel" if layer.kind == "depthwise" else "kernel"
        out[f"{layer.scope}/{layer.weights}"] = keras[layer.keras][kernel]
        for p in BATCH_NORM_PARAMS:
            out[f"{layer.scope}/BatchNorm/{p}"] = keras[layer.keras_bn][p]
    if kind == "classification":
        top = keras["conv_preds"]
        kernel = top["kernel"].reshape(1, 1, FEATURE_DIM, -1)
        out[f"{LOGITS}/weights"] = np.concatenate(
            [np.zeros((1, 1, FEATURE_DIM, 1), kernel.dtype), kernel], axis=-1)
        out[f"{LOGITS}/biases"] = np.concatenate(
            [np.full((1,), BACKGROUND_LOGIT, top["bias"].dtype), top["bias"]])
    assert list(out) == published_variable_names(kind)
    return out


# --------------------------------------------------------------------------- the network

def _mobilenet_class():
    """The tf.Module class (defined lazily: TensorFlow is imported only when needed)."""
    import tensorflow as tf

    class MobileNetV1(tf.Module):
        """MobileNet v1 in plain TensorFlow ops, with TF-Slim's variable names.

        ``kind="feature_vector"`` returns [B, 256]; ``"classification"`` returns [B, 1001]
        logits with the background logit first. ``self.params`` maps each published
        variable name (``MobilenetV1/Conv2d_13_pointwise/weights``) to its variable, in
        the published order.
        """

        def __init__(self, weights: dict[str, np.ndarray], kind: str, *, name: str | None = None):
            super().__init__(name=name)
            if kind not in ("classification", "feature_vector"):
                raise ValueError(f"kind must be 'classification' or 'feature_vector', got {kind!r}")
            expected = published_variable_names(kind)
            if list(weights) != expected:
                raise HubBuildError("MobileNetV1 needs the published variables in order "
                                    f"(first: {expected[0]}); use slim_weights()")
            self.kind = kind
            self.params = {
                n: tf.Variable(value.astype(np.float32), name=n,
                               trainable=not n.endswith(("moving_mean", "moving_variance")))
                for n, value in weights.items()}

        def ordered_variables(self, trainable_only: bool = False) -> list:
            """Variables in the published order (tf.Module's own lists are sorted by name)."""
            return [v for v in self.params.values() if v.trainable or not trainable_only]

        def regularized(self) -> list:
            """The weights TF-Slim's arg scope regularises: every conv but the depthwise."""
            return [v for n, v in self.params.items()
                    if n.endswith("/weights") and "_depthwise/" not in n]

        def _bn(self, x, scope: str, training: bool, momentum):
            p = {k: self.params[f"{scope}/BatchNorm/{k}"] for k in BATCH_NORM_PARAMS}
            if training:
                mean, var = tf.nn.moments(x, axes=[0, 1, 2])
                p["moving_mean"].assign(p["moving_mean"] * momentum + mean * (1.0 - momentum))
                p["moving_variance"].assign(p["moving_variance"] * momentum
                                            + var * (1.0 - momentum))
                return tf.nn.batch_normalization(x, mean, var, p["beta"], p["gamma"],
                                                 BATCH_NORM_EPSILON)
            # inference: the fused op, which TensorFlow's graph optimizer folds into the
            # convolution before it (several times faster on a CPU than the op-by-op form)
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, p["gamma"], p["beta"], p["moving_mean"], p["moving_variance"],
                epsilon=BATCH_NORM_EPSILON, is_training=False)
            return y

        def features(self, images, training: bool = False, momentum=BATCH_NORM_MOMENTUM):
            """[B, H, W, 3] in [0, 1] -> [B, 256] globally averaged features of the last block.

            ``training=True``: batch norm on the batch's statistics, moving averages updated
            with ``momentum``; the convolutions are the same in both modes.
            """
            x = images * 2.0 - 1.0                       # Hub convention: the module rescales
            for layer in layers():
                w = self.params[f"{layer.scope}/{layer.weights}"]
                if layer.kind == "depthwise":
                    x = tf.nn.depthwise_conv2d(x, w, [1, layer.stride, layer.stride, 1], "SAME")
                else:
                    x = tf.nn.conv2d(x, w, layer.stride, "SAME")
                x = tf.nn.relu6(self._bn(x, layer.scope, training, momentum))
            return tf.reduce_mean(x, axis=[1, 2])

        def forward(self, images, training: bool = False, momentum=BATCH_NORM_MOMENTUM):
            feats = self.features(images, training, momentum)
            if self.kind == "feature_vector":
                return feats
            kernel = tf.reshape(self.params[f"{LOGITS}/weights"], [FEATURE_DIM, NUM_CLASSES])
            return tf.matmul(feats, kernel) + self.params[f"{LOGITS}/biases"]   # 1x1 conv

    return MobileNetV1


def _l2_loss(weights):
    """TF-Slim's ``l2_regularizer(WEIGHT_DECAY)`` on ``weights`` as a zero-argument tf.function."""
    import tensorflow as tf

    return tf.function(lambda: WEIGHT_DECAY * tf.nn.l2_loss(weights), input_signature=[])


def _hub_object_class():
    import tensorflow as tf

    class ReusableSavedModel(tf.Module):
        """TF Hub's reusable-SavedModel interface around a network.

        The interface asks for *attributes* ``variables``, ``trainable_variables`` and
        ``regularization_losses`` stored in the SavedModel; tf.Module computes the first two
        as properties (which are not saved), so they are shadowed here by plain attributes.
        """

        variables = None
        trainable_variables = None

        def __init__(self, net, image_spec):
            super().__init__(name="hub_module")
            self.net = net
            self.variables = net.ordered_variables()
            self.trainable_variables = net.ordered_variables(trainable_only=True)
            self.regularization_losses = [_l2_loss(w) for w in net.regularized()]
            self.__call__ = tf.function(self._call)
            momentum = tf.TensorSpec([], tf.float32, name="batch_norm_momentum")
            for training in (False, True):
                self.__call__.get_concrete_function(image_spec, training=training,
                                                    batch_norm_momentum=momentum)
            output = "logits" if net.kind == "classification" else "feature_vector"
            self.serve = tf.function(lambda images: {output: net.forward(images, False)},
                                     input_signature=[image_spec])

        def _call(self, images, training=False, batch_norm_momentum=BATCH_NORM_MOMENTUM):
            return self.net.forward(images, training, batch_norm_momentum)

    return ReusableSavedModel


def build_network(kind: str, keras_weights: dict | None = None):
    """A MobileNetV1 tf.Module of ``kind``; default weights: the data layer's 128-px
    ImageNet classifier (its backbone is also the better feature extractor at 128 px)."""
    if keras_weights is None:
        from edgelab.datasets import samples

        keras_weights = read_keras_weights(samples.mobilenet_weights(include_top=True))
    return _mobilenet_class()(slim_weights(keras_weights, kind), kind,
                              name=f"mobilenet_v1_025_{kind}")


def save_reusable(net, directory: str | os.PathLike) -> Path:
    """Write ``net`` as a reusable (TF-Hub format) SavedModel into ``directory``."""
    import tensorflow as tf

    spec = tf.TensorSpec([None, None, None, 3], tf.float32, name="images")
    obj = _hub_object_class()(net, spec)
    tf.saved_model.save(obj, str(directory), signatures={"serving_default": obj.serve})
    return Path(directory)


# --------------------------------------------------------------------------- the cache

def hub_dir() -> Path:
    """Where edgelab keeps the Hub modules it builds: ``<EDGELAB_HOME>/hub``."""
    path = paths.home() / "hub"
    path.mkdir(parents=True, exist_ok=True)
    return path


def module_dir(name: str) -> Path:
    if name not in MODULES:
        raise HubBuildError(f"unknown edgelab Hub module {name!r}; known: {', '.join(MODULES)}")
    return hub_dir() / name


def is_built(name: str) -> bool:
    """True if ``name`` is in the cache, complete, and built by this version of the code."""
    folder = module_dir(name)
    info = folder / BUILD_INFO
    if not (folder / "saved_model.pb").is_file() or not info.is_file():
        return False
    try:
        return json.loads(info.read_text(encoding="utf-8")).get("build_version") == BUILD_VERSION
    except (OSError, ValueError):
        return False


def build(name: str, *, force: bool = False) -> Path:
    """The local folder of edgelab's build of ``name``, building it if missing (atomic).

    Built into a temporary folder next to the destination and renamed into place when
    complete, so an interrupted build leaves nothing that looks finished.
    """
    spec = MODULES.get(name)
    dest = module_dir(name)
    if is_built(name) and not force:
        return dest
    from edgelab.datasets import samples

    source = samples.mobilenet_weights(include_top=spec.with_top)
    net = build_network(spec.kind, read_keras_weights(source))
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=dest.parent))
    try:
        save_reusable(net, tmp)
        (tmp / BUILD_INFO).write_text(json.dumps({
            "build_version": BUILD_VERSION, "module": name, "kind": spec.kind,
            "weights": source.name, "background_logit": BACKGROUND_LOGIT,
            "about": spec.about}, indent=1), encoding="utf-8")
        if is_built(name) and not force:      # another process finished first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
