"""Grad-CAM and Grad-CAM++: which parts of an image a classifier's score depends on.

A convolutional classifier keeps a spatial layout until its last feature map ``A`` (h x w
positions, K channels); after that it pools and classifies. Grad-CAM (Selvaraju et al.
2017) asks how the score ``y_c`` of one class changes with each channel and paints the
channels back onto the positions::

    alpha_k = mean_ij  d y_c / d A_ijk            (one weight per channel)
    map_ij  = ReLU( sum_k alpha_k A_ijk )         (keep what speaks *for* class c)

then resizes the h x w map to the input and scales it to [0, 1]. ``y_c`` is the score
*before* the softmax. Grad-CAM++ (Chattopadhay et al. 2018) weights each position's
positive gradient instead of taking the plain mean, which spreads the map over several
instances of a class. Both run in one ``tf.function`` per model: one forward pass and a
backward pass from the score to the feature map only.

Models come in two kinds:

* **Keras 3** functional or Sequential models. The feature map is the last layer whose
  output is 4-D with more than 1x1 positions. When that layer is a nested model (a
  backbone such as MobileNet inside a classifier), its *output* is used: for a
  convolutional backbone that is its last feature map, so there is no need to reach
  inside. A layer inside a nested model can still be named as ``"backbone/layer"``. The
  model is cut in two at that layer (``features`` then ``head``), so the backward pass
  stops at the cut; a layer whose output is bypassed by a skip connection cannot be a cut
  and gets a clear error. If the model ends in a softmax layer, its input (the logits) is
  the score.
* **Any other module** (Sonnet, a Keras subclassed model) that exposes
  ``features(images, is_training)`` (its last 4-D feature map) and
  ``head(features, is_training)`` (the logits), like ``edgelab.xception.Xception``.

What a heatmap does *not* tell you is in notebook 03: it shows where the score is
sensitive at one coarse layer, not why, and not what a person would call the object.
Showing maps is in :mod:`edgelab.gradcam.display`, checking them in
:mod:`edgelab.gradcam.sanity`.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

METHODS = ("gradcam", "gradcam++")


@dataclass(frozen=True)
class Explanation:
    """What one Grad-CAM call computed for a batch of N images."""

    heatmaps: np.ndarray     # (N, H, W) float32 in [0, 1], at the input's resolution
    class_index: np.ndarray  # (N,) int: the class each map explains
    logits: np.ndarray       # (N, classes): the scores the maps were computed from
    layer: str               # the feature map used, e.g. "conv_pw_13_relu"
    method: str              # "gradcam" or "gradcam++"


@dataclass(frozen=True)
class _Split:
    """A classifier cut at its feature map: ``head(features(x))`` gives the logits."""

    features: Callable
    head: Callable
    layer: str
    num_classes: int | None


class GradCam:
    """Grad-CAM (or Grad-CAM++) for one model: build once, call on any number of batches.

    ``GradCam(model)`` finds the feature map; ``GradCam(model, layer="conv_pw_13")`` uses a
    given layer (name, ``"nested_model/layer"`` path, or the layer object). ``method`` is
    ``"gradcam"`` or ``"gradcam++"``. ``upsample=False`` returns the maps at the feature
    map's own resolution (h x w) instead of the input's.
    """

    def __init__(self, model, layer=None, method: str = "gradcam", upsample: bool = True):
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        self.method = method
        self.upsample = bool(upsample)
        self._split = _split_model(model, layer)
        self.layer = self._split.layer
        self._num_classes = self._split.num_classes
        self._fn = None

    def __call__(self, images, class_index=None) -> np.ndarray:
        """Heatmaps (N, H, W) in [0, 1] for a batch of images (N, H, W, C)."""
        return self.explain(images, class_index).heatmaps

    def explain(self, images, class_index=None) -> Explanation:
        """Heatmaps plus the class each explains and the logits.

        ``class_index``: ``None`` for each image's top-scoring class, one int for the same
        class in every image, or one int per image.
        """
        import tensorflow as tf

        images = _check_images(images)
        n = int(images.shape[0])
        wanted = self._class_indices(class_index, n)
        if self._fn is None:
            self._fn = tf.function(self._maps, reduce_retracing=True)
        heatmaps, used, logits = self._fn(tf.convert_to_tensor(images, tf.float32),
                                          tf.constant(wanted, tf.int32))
        if self._num_classes is None:   # modules: the class count is known after one call
            self._num_classes = int(logits.shape[-1])
            self._class_indices(class_index, n)   # raises now if an index was out of range
        return Explanation(heatmaps.numpy(), used.numpy(), logits.numpy(), self.layer, self.method)

    def _class_indices(self, class_index, n: int) -> np.ndarray:
        """-1 = "the top class" (internal); anything the caller passes must be a real class."""
        if class_index is None:
            return np.full(n, -1, np.int32)
        values = np.asarray(class_index)
        if values.ndim == 0:
            values = np.full(n, values)
        if values.ndim != 1 or len(values) != n or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"class_index must be None, an int, or {n} ints (one per image); "
                             f"got {class_index!r}")
        high = self._num_classes
        bad = sorted({int(v) for v in values if v < 0 or (high is not None and v >= high)})
        if bad:
            raise ValueError(f"class_index {bad} out of range: the model has "
                             f"{high if high is not None else 'an unknown number of'} classes "
                             f"(valid: 0 to {high - 1 if high else '?'})")
        return values.astype(np.int32)

    def _maps(self, images, wanted):
        import tensorflow as tf

        features = tf.cast(self._split.features(images), tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(features)
            logits = tf.cast(self._split.head(features), tf.float32)
            top = tf.argmax(logits, axis=-1, output_type=tf.int32)
            used = tf.where(wanted < 0, top, wanted)
            score = tf.reduce_sum(logits * tf.one_hot(used, tf.shape(logits)[-1]), axis=-1)
        # Images do not interact (inference mode), so the gradient of the summed scores
        # holds each image's own gradient.
        grads = tape.gradient(score, features)
        if self.method == "gradcam":
            weights = tf.reduce_mean(grads, axis=(1, 2))                        # (N, K)
        else:
            weights = _gradcam_plus_plus_weights(features, grads)
        cam = tf.nn.relu(tf.einsum("nhwk,nk->nhw", features, weights))
        if self.upsample:   # half-pixel centres: each cell's value lands on its own block
            cam = tf.image.resize(cam[..., None], tf.shape(images)[1:3], method="bilinear")[..., 0]
        peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
        cam = tf.math.divide_no_nan(cam, peak)   # all-zero map (no positive evidence) stays 0
        return cam, used, logits


def _gradcam_plus_plus_weights(features, grads):
    """Channel weights of Grad-CAM++ (Chattopadhay et al. 2018, eq. 19 with the exp score).

    With ``exp(y_c)`` as the score, its 2nd and 3rd derivatives are powers of the 1st, and
    the common factor ``exp(y_c)`` cancels in the per-position coefficients ``a_ijk``; it
    would only scale the map, which is normalised anyway, so it is left out.
    """
    import tensorflow as tf

    g2 = tf.square(grads)
    g3 = g2 * grads
    total = tf.reduce_sum(features, axis=(1, 2), keepdims=True)                  # (N,1,1,K)
    denominator = 2.0 * g2 + total * g3
    denominator = tf.where(tf.not_equal(denominator, 0.0), denominator, tf.ones_like(denominator))
    a = g2 / denominator
    return tf.reduce_sum(a * tf.nn.relu(grads), axis=(1, 2))                    # (N, K)


# ----------------------------------------------------------------------------- one-call API

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


def gradcam(model, images, class_index=None, layer=None, method: str = "gradcam") -> np.ndarray:
    """Grad-CAM heatmaps (N, H, W) in [0, 1] for a batch of images (N, H, W, C).

    ``model``: a Keras 3 model, or a module with ``features``/``head`` (see the module
    docstring). ``class_index``: ``None`` (each image's top class), an int, or one per image.
    ``layer``: the feature layer; found automatically when ``None``. The ``GradCam`` built
    for a model is reused by later calls, so only the first call pays for tracing.
    """
    return _cached(model, layer, method)(images, class_index)


def gradcam_plus_plus(model, images, class_index=None, layer=None) -> np.ndarray:
    """Grad-CAM++ heatmaps, same interface as :func:`gradcam`."""
    return gradcam(model, images, class_index, layer, method="gradcam++")


def _cached(model, layer, method) -> GradCam:
    key = (id(model), layer if isinstance(layer, (str, type(None))) else id(layer), method)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is model:
        _CACHE.move_to_end(key)
        return hit[1]
    explainer = GradCam(model, layer=layer, method=method)
    try:
        ref = weakref.ref(model)
    except TypeError:   # not weak-referenceable: do not cache
        return explainer
    _CACHE[key] = (ref, explainer)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return explainer


# ----------------------------------------------------------------------------- cutting a model

def _graph(model):
    """The Keras graph (Functional) behind a functional or built Sequential model, else None."""
    try:
        import keras
    except ImportError:
        return None
    if not isinstance(model, keras.Model):
        return None
    if hasattr(model, "_nodes_by_depth"):
        return model
    inner = getattr(model, "_functional", None)   # a built Sequential model
    return inner if inner is not None and hasattr(inner, "_nodes_by_depth") else None


def _split_model(model, layer) -> _Split:
    if _graph(model) is not None:
        return _split_keras(model, layer)
    if callable(getattr(model, "features", None)) and callable(getattr(model, "head", None)):
        if layer is not None:
            raise ValueError("layer= applies to Keras functional models; a module with "
                             "features()/head() is cut at what features() returns")
        return _Split(features=lambda x: model.features(x, is_training=False),
                      head=lambda f: model.head(f, is_training=False),
                      layer=f"{type(model).__name__}.features", num_classes=None)
    raise TypeError(
        f"cannot explain a {type(model).__name__}: pass a Keras functional or Sequential model "
        "(built, with inputs), or a module with features(images, is_training) returning its "
        "last 4-D feature map and head(features, is_training) returning logits")


def _split_keras(model, layer) -> _Split:
    path = _find_last_map(model) if layer is None else _resolve_layer(model, layer)
    name = "/".join(l.name for l in path)
    shape = _output_tensor(path[-1], path[-2] if len(path) > 1 else model).shape
    if len(shape) != 4:
        raise ValueError(f"layer {name!r} outputs shape {tuple(shape)}; Grad-CAM needs a "
                         "4-D feature map (batch, height, width, channels)")
    logits = _logits_tensor(model)
    features, head = _cut(model, path, outputs=logits)
    return _Split(features=features, head=head, layer=name, num_classes=int(logits.shape[-1]))


def _node(layer, owner):
    """The one call of ``layer`` inside ``owner``'s graph (nested models are layers too)."""
    nodes = [n for n in layer._inbound_nodes if n.operation is layer]
    owned = [n for n in nodes if any(n is m for m in _owner_nodes(owner))]
    nodes = owned or nodes
    if len(nodes) != 1:
        raise ValueError(f"layer {layer.name!r} is called {len(nodes)} times in {owner.name!r}; "
                         "Grad-CAM needs a layer with exactly one call: pick another layer")
    return nodes[0]


def _owner_nodes(owner):
    graph = _graph(owner)
    nodes_by_depth = getattr(graph, "_nodes_by_depth", None) or {}
    for nodes in nodes_by_depth.values():
        yield from nodes


def _output_tensor(layer, owner):
    outputs = _node(layer, owner).output_tensors
    if len(outputs) != 1:
        raise ValueError(f"layer {layer.name!r} has {len(outputs)} outputs; pick a layer with one")
    return outputs[0]


def _input_tensor(layer, owner):
    inputs = _node(layer, owner).input_tensors
    if len(inputs) != 1:
        raise ValueError(f"nested model {layer.name!r} takes {len(inputs)} inputs; "
                         "Grad-CAM can reach inside single-input nested models only")
    return inputs[0]


def _logits_tensor(model):
    """The model's output, or the input of a final softmax layer (Grad-CAM wants logits)."""
    import keras

    if len(model.outputs) != 1:
        raise ValueError(f"model {model.name!r} has {len(model.outputs)} outputs; "
                         "Grad-CAM here explains single-output classifiers")
    history = getattr(model.outputs[0], "_keras_history", None)
    last = history.operation if history is not None else model.layers[-1]
    activation = getattr(last, "activation", None)
    is_softmax = activation is getattr(keras.activations, "softmax", None) or \
        getattr(activation, "__name__", "") == "softmax"
    if isinstance(last, keras.layers.Softmax) or \
            (isinstance(last, keras.layers.Activation) and is_softmax):
        return _input_tensor(last, model) if not isinstance(last, keras.Model) else model.outputs[0]
    if is_softmax:
        raise ValueError(
            f"the last layer {last.name!r} of {model.name!r} applies softmax inside itself, so "
            "the logits Grad-CAM needs are not in the graph; build the model with a linear "
            "last layer followed by keras.layers.Activation('softmax') (or output logits)")
    return model.outputs[0]


def _reads_around(mid, outputs) -> bool:
    """True if ``outputs`` depends on a model input by a path that does not pass ``mid``."""
    seen, stack = set(), [outputs]
    while stack:
        tensor = stack.pop()
        if tensor is mid or id(tensor) in seen:
            continue
        seen.add(id(tensor))
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            return True
        node = history.operation._inbound_nodes[history.node_index]
        if node.is_input:
            return True
        stack.extend(node.input_tensors)
    return False


def _cut(model, path, outputs):
    """(features, head) callables that cut ``model`` at ``path`` (a list of nested layers)."""
    import keras

    first = path[0]
    if len(path) == 1:
        mid = _output_tensor(first, model)
        if mid is outputs:   # cut at the output itself: nothing left for the head to do
            features = keras.Model(model.inputs, mid)
            return (lambda x: features(x, training=False)), (lambda f: f)
        why = "it" if _reads_around(mid, outputs) else None
        try:
            features = keras.Model(model.inputs, mid)
            head = keras.Model(mid, outputs)
        except ValueError as err:
            why = f"it. Keras said: {err}"
        if why:   # Keras 3.15 refuses such a head; Keras 3.13 (Colab's) builds a broken one
            raise ValueError(
                f"cannot cut {model.name!r} at layer {first.name!r}: later layers also read "
                f"tensors from before it (a skip connection?). Pick a later layer, such as "
                f"the one after the merge: the head must depend on the cut alone, not around "
                f"{why}") from None
        return (lambda x: features(x, training=False)), (lambda f: head(f, training=False))
    inner_features, inner_head = _cut(first, path[1:], outputs=first.outputs[0])
    pre = keras.Model(model.inputs, _input_tensor(first, model))
    post_in = _output_tensor(first, model)
    try:
        post = keras.Model(post_in, outputs)
    except ValueError as err:
        raise ValueError(f"cannot cut {model.name!r} after nested model {first.name!r}: "
                         f"Keras said: {err}") from None
    return (lambda x: inner_features(pre(x, training=False)),
            lambda f: post(inner_head(f), training=False))


def _is_spatial_map(shape) -> bool:
    """4-D with more than one position (a 1x1 map after global pooling has no 'where')."""
    if len(shape) != 4:
        return False
    h, w = shape[1], shape[2]
    return h is None or w is None or h * w > 1


def _find_last_map(model, prefix=()):
    import keras

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            shape = _output_tensor(layer, model).shape
        except ValueError:
            continue
        if _is_spatial_map(shape):
            return [*prefix, layer]
        if _graph(layer) is not None:
            try:
                return _find_last_map(layer, prefix=(*prefix, layer))
            except ValueError:
                continue
    raise ValueError(f"model {model.name!r} has no layer with a 4-D output larger than 1x1, "
                     "so there is no feature map to explain; pass layer= to pick one")


def _resolve_layer(model, layer):
    """A layer name, ``"outer/inner"`` path, or layer object -> the list of nested layers."""
    import keras

    if isinstance(layer, keras.layers.Layer):
        found = _search(model, lambda l: l is layer)
        what = f"layer object {layer.name!r}"
    elif isinstance(layer, str):
        if "/" in layer:
            found, owner = [], model
            for part in layer.split("/"):
                if _graph(owner) is None:
                    found = None
                    break
                match = [l for l in owner.layers if l.name == part]
                if not match:
                    found = None
                    break
                found.append(match[0])
                owner = match[0]
        else:
            found = _search(model, lambda l: l.name == layer)
        what = f"layer {layer!r}"
    else:
        raise TypeError(f"layer must be a name, a 'nested/layer' path or a Keras layer, "
                        f"got {type(layer).__name__}")
    if not found:
        names = ", ".join(l.name for l in model.layers[-6:])
        raise ValueError(f"{what} is not in model {model.name!r} (last layers: {names}); "
                         "use a name from model.summary(), or 'nested_model/layer' for a "
                         "layer inside a nested model")
    return found


def _search(model, match, prefix=()):
    for layer in model.layers:
        if match(layer):
            return [*prefix, layer]
    for layer in model.layers:
        if _graph(layer) is not None:
            found = _search(layer, match, (*prefix, layer))
            if found:
                return found
    return None


def _check_images(images):
    shape = getattr(images, "shape", None)
    if shape is None:
        images = np.asarray(images)
        shape = images.shape
    if len(shape) != 4:
        raise ValueError(f"images must be a batch (N, height, width, channels), got shape "
                         f"{tuple(shape)}; for one image pass image[None]")
    if shape[0] == 0:
        raise ValueError("images is an empty batch")
    return images
