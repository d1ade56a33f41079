"""TF-Hub-format MobileNet v1 (alpha 0.25) SavedModels, built offline from the Keras weights.

Notebook 05 uses TensorFlow Hub's real API, ``hub.KerasLayer(handle)``, but the machines it
runs on in CI cannot reach tfhub.dev or Kaggle. The data layer does have the Keras
ImageNet weights of the same network (``samples.mobilenet_weights``), so this module
writes them out as *reusable SavedModels*, the format TF Hub publishes:

* an object with ``__call__(images, training=False)`` traced for both values of
  ``training``, and the attributes ``variables``, ``trainable_variables`` and
  ``regularization_losses`` (that is what lets ``hub.KerasLayer(path, trainable=True)``
  fine-tune it);
* inputs float32 ``[batch, height, width, 3]`` in ``[0, 1]``; the module rescales to
  MobileNet's ``[-1, 1]`` itself; any size from 32 px up works;
* a ``serving_default`` signature as well, for tools that only read signatures (TFLite).

Two modules, as on TF Hub:

``classification``
    1001 logits, index 0 = "background", like TF Hub's
    ``imagenet/mobilenet_v1_025_128/classification``. The Keras weights have only the 1000
    real classes (the background unit of the original checkpoint was dropped), so the
    background logit is the constant :data:`BACKGROUND_LOGIT` (-1e4): far below any real
    logit, so top-k and the softmax over the real classes are exactly those of the Keras
    model, and background gets probability 0 instead of a made-up score.
``feature_vector``
    the 256-d global-average-pooled activations of the last block.

The network is written with plain TensorFlow ops (no Keras objects in the SavedModel), so
it loads the same under Keras 3 and under tf_keras. Batch normalization is real in both
modes: ``training=True`` normalizes with the batch's statistics and updates the moving
averages (momentum :data:`BATCH_NORM_MOMENTUM`, like Keras), ``training=False`` uses the
moving averages. ``hub.KerasLayer`` passes ``training=True`` only when it is trainable.
The extra argument ``batch_norm_training=False`` (``hub.KerasLayer(..., arguments=
dict(batch_norm_training=False))``) keeps batch norm in inference mode while the weights
train, which is what fine-tuning on a small data set wants (notebook 05).
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

ALPHA = 0.25
BACKGROUND_LOGIT = -1e4
BATCH_NORM_MOMENTUM = 0.99  # Keras' BatchNormalization default
BATCH_NORM_EPSILON = 1e-3   # Keras MobileNet's BatchNormalization default
FEATURE_DIM = 256           # 1024 * ALPHA channels after the last block
NUM_CLASSES = 1001          # ImageNet + background, TF-Hub order
BUILD_VERSION = 1           # bump when the module's code changes: cached builds are rebuilt
BUILD_INFO = "edgelab_build.json"

# The 13 depthwise-separable blocks of MobileNet v1: (pointwise filters at alpha 1, stride).
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
          (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
STEM_FILTERS = 32


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


def _layer_names(include_top: bool) -> list[str]:
    names = ["conv1", "conv1_bn"]
    for i in range(1, len(BLOCKS) + 1):
        names += [f"conv_dw_{i}", f"conv_dw_{i}_bn", f"conv_pw_{i}", f"conv_pw_{i}_bn"]
    return names + (["conv_preds"] if include_top else [])


# --------------------------------------------------------------------------- the network

def _mobilenet_class():
    """The tf.Module class (defined lazily: TensorFlow is imported only when needed)."""
    import tensorflow as tf

    class MobileNetV1(tf.Module):
        """MobileNet v1 in plain TensorFlow ops, variables copied from Keras weights.

        ``kind="feature_vector"`` returns [B, 256]; ``"classification"`` returns [B, 1001]
        logits with the background logit first. Variables are named like the Keras layers
        (``conv_pw_13/kernel``, ``conv_pw_13_bn/gamma``), so a caller can pick the top
        blocks by name for fine-tuning.
        """

        def __init__(self, weights, kind: str, *, momentum: float = BATCH_NORM_MOMENTUM,
                     name: str | None = None):
            super().__init__(name=name)
            if kind not in ("classification", "feature_vector"):
                raise ValueError(f"kind must be 'classification' or 'feature_vector', got {kind!r}")
            missing = [n for n in _layer_names(kind == "classification") if n not in weights]
            if missing:
                raise HubBuildError(f"the Keras weights lack layers {missing[:4]}; a {kind} "
                                    "module needs MobileNet v1 0.25 weights"
                                    + (" with the classifier top (include_top=True)"
                                       if kind == "classification" else ""))
            self.kind = kind
            self.momentum = float(momentum)
            self.params = {}
            for layer in _layer_names(kind == "classification"):
                group = {}
                for param, value in weights[layer].items():
                    frozen = param in ("moving_mean", "moving_variance")
                    group[param] = tf.Variable(value.astype(np.float32), trainable=not frozen,
                                               name=f"{layer}/{param}")
                self.params[layer] = group

        def ordered_variables(self, trainable_only: bool = False) -> list:
            """Variables in network order, input to output (tf.Module sorts by name)."""
            return [v for group in self.params.values() for v in group.values()
                    if v.trainable or not trainable_only]

        def _bn(self, x, layer, training: bool):
            p = self.params[layer]
            if training:
                mean, var = tf.nn.moments(x, axes=[0, 1, 2])
                m = self.momentum
                p["moving_mean"].assign(p["moving_mean"] * m + mean * (1.0 - m))
                p["moving_variance"].assign(p["moving_variance"] * m + var * (1.0 - m))
            else:
                mean, var = p["moving_mean"], p["moving_variance"]
            return tf.nn.batch_normalization(x, mean, var, p["beta"], p["gamma"],
                                             BATCH_NORM_EPSILON)

        def features(self, images, training: bool = False):
            """[B, H, W, 3] in [0, 1] -> [B, 256] pooled features.

            ``training`` here means batch-norm training mode (batch statistics, moving
            averages updated); the convolutions are the same in both modes.
            """
            x = images * 2.0 - 1.0                       # Hub convention: the module rescales
            x = tf.nn.conv2d(x, self.params["conv1"]["kernel"], 2, "SAME")
            x = tf.nn.relu6(self._bn(x, "conv1_bn", training))
            for i, (_, stride) in enumerate(BLOCKS, 1):
                if stride == 2:                          # Keras pads bottom/right, then VALID
                    x = tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]])
                kernel = self.params[f"conv_dw_{i}"]["depthwise_kernel"]
                x = tf.nn.depthwise_conv2d(x, kernel, [1, stride, stride, 1],
                                           "VALID" if stride == 2 else "SAME")
                x = tf.nn.relu6(self._bn(x, f"conv_dw_{i}_bn", training))
                x = tf.nn.conv2d(x, self.params[f"conv_pw_{i}"]["kernel"], 1, "SAME")
                x = tf.nn.relu6(self._bn(x, f"conv_pw_{i}_bn", training))
            return tf.reduce_mean(x, axis=[1, 2])

        def forward(self, images, training: bool = False, batch_norm_training: bool = True):
            feats = self.features(images, training and batch_norm_training)
            if self.kind == "feature_vector":
                return feats
            top = self.params["conv_preds"]
            kernel = tf.reshape(top["kernel"], [FEATURE_DIM, -1])   # 1x1 conv == dense
            logits = tf.matmul(feats, kernel) + top["bias"]
            background = tf.fill([tf.shape(logits)[0], 1], tf.constant(BACKGROUND_LOGIT,
                                                                         logits.dtype))
            return tf.concat([background, logits], axis=1)

    return MobileNetV1


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
            self.regularization_losses = []   # weight decay, if wanted, is the caller's
            self.__call__ = tf.function(self._call)
            for training in (False, True):
                for bn in (False, True):
                    self.__call__.get_concrete_function(image_spec, training=training,
                                                        batch_norm_training=bn)
            output = "logits" if net.kind == "classification" else "feature_vector"
            self.serve = tf.function(lambda images: {output: net.forward(images, False)},
                                     input_signature=[image_spec])

        def _call(self, images, training=False, batch_norm_training=True):
            return self.net.forward(images, training, batch_norm_training)

    return ReusableSavedModel


def build_network(kind: str, weights: dict | None = None, *, momentum: float = BATCH_NORM_MOMENTUM):
    """A MobileNetV1 tf.Module of ``kind``; default weights: the data layer's 128-px
    ImageNet classifier (its backbone is also the better feature extractor at 128 px)."""
    if weights is None:
        from edgelab.datasets import samples

        weights = read_keras_weights(samples.mobilenet_weights(include_top=True))
    return _mobilenet_class()(weights, kind, momentum=momentum, name=f"mobilenet_v1_025_{kind}")


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


def replace_dir(tmp: Path, dest: Path) -> None:
    """Move the finished folder ``tmp`` to ``dest`` so readers never see half of it.

    A folder cannot be renamed over a non-empty one, so an old ``dest`` is first renamed
    aside, then deleted once the new one is in place.
    """
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old.", dir=dest.parent))
        os.replace(dest, old / "x")
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
