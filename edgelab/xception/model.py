"""Xception (Chollet, 2017) as Sonnet 2 modules, one module per box of the paper's figure.

Why a hand-written Sonnet model when ``keras.applications.Xception`` exists: notebook 02
is the lesson on *modular model code*. Each box of the paper's Figure 5 is a small
``snt.Module`` that owns its sub-modules and creates its variables on first call, so the
code reads like the figure:

* :class:`SeparableConv2D` - Sonnet 2 has none: a 3x3 depthwise conv (no bias) then a
  1x1 conv (no bias; batch norm follows, so a bias would be redundant).
* :class:`Stem` - conv 3x3/2 (32) and conv 3x3 (64), each with BN and ReLU, no padding.
* :class:`EntryBlock` - [ReLU] sep-conv, BN, ReLU, sep-conv, BN, 3x3/2 max-pool, plus a
  1x1/2 conv + BN on the residual path. The exit flow's first block has the same shape.
* :class:`MiddleBlock` - three (ReLU, sep-conv, BN) with an identity residual; x8.
* :class:`ExitFlow` - the exit block, then sep-conv 1536 and 2048, each with BN and ReLU.
* :class:`Xception` - stem, entry flow, middle flow, exit flow, then one of two heads:
  ``"paper"`` (global average pooling, classifier) or ``"lesson"`` (global average
  pooling, 256-unit dense + ReLU, dropout, classifier: the source lesson's head).

Global average pooling (not the source lesson's fixed 5x5 pool) lets any input size
of at least 7x7 work (the stem's two unpadded convolutions need that much; everything
after them is SAME-padded). Inputs are float32 images in [0, 1] (what
``edgelab.datasets.flowers17.dataset`` yields); the model rescales them to [-1, 1].

The paper configuration (299x299, 1000 classes, ``head="paper"``) has exactly
22,855,952 trainable parameters, the same as ``keras.applications.Xception(weights=None)``.

Mixed precision: ``compute_dtype="bfloat16"`` (or ``"float16"``) keeps every variable in
float32 but runs convolutions and matrix products in the lower precision; batch norm and
the logits stay in float32. :func:`edgelab.xception.training.mixed_precision_dtype` picks
the dtype for this machine (float32 on a CPU).

The trained Flower17 model travels between notebooks as a folder under
``paths.model_path("xception_flowers")``: ``config.json`` (constructor arguments),
``checkpoint/`` (a ``tf.train.Checkpoint`` of the module) and ``saved_model/`` (for
notebook 07). :func:`save` writes it atomically; :func:`load` reads it back;
:func:`edgelab.xception.load_or_train` loads it or trains a small one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path
from collections.abc import Mapping
from typing import Sequence

import sonnet as snt
import tensorflow as tf

from edgelab.core import paths
from edgelab.core.atomic import replace_dir

MODEL_DIR = "xception_flowers"
CONFIG_FILE = "config.json"
PAPER_TRAINABLE_PARAMS = 22_855_952
# The stem's two unpadded 3x3 convolutions (the first with stride 2) need a 7x7 input to
# leave a 1x1 map; every later pool, strided shortcut and separable conv is SAME-padded, so
# it maps any size >= 1 to at least 1. Useful inputs are far larger, of course.
MIN_IMAGE_SIZE = 7
HEADS = ("paper", "lesson")


@dataclasses.dataclass(frozen=True)
class Widths:
    """Channel widths of the network; the defaults are the paper's.

    ``entry`` has one width per entry-flow block; its last width is also the middle
    flow's (the middle blocks have identity residuals, so the width cannot change there).
    """

    stem: tuple[int, int] = (32, 64)
    entry: tuple[int, ...] = (128, 256, 728)
    exit: tuple[int, int] = (728, 1024)
    top: tuple[int, int] = (1536, 2048)

    @property
    def middle(self) -> int:
        return self.entry[-1]

    def scaled(self, multiplier: float) -> "Widths":
        """Every width times ``multiplier`` (rounded, at least 8): a thinner Xception."""
        if not multiplier > 0:
            raise ValueError(f"width multiplier must be > 0, got {multiplier!r}")

        def s(ws):
            return tuple(max(8, int(round(w * multiplier))) for w in ws)

        return Widths(stem=s(self.stem), entry=s(self.entry), exit=s(self.exit), top=s(self.top))

    def as_dict(self) -> dict[str, list[int]]:
        return {k: list(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_any(cls, value: "Widths | dict | None") -> "Widths":
        if value is None:
            return cls()
        if isinstance(value, Widths):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {f.name for f in dataclasses.fields(cls)}
            if unknown:
                raise ValueError(f"unknown width groups {sorted(unknown)}; "
                                 "use stem, entry, exit, top")
            return cls(**{k: tuple(int(w) for w in v) for k, v in value.items()})
        raise TypeError(f"widths must be a Widths or a dict, got {type(value).__name__}")


def paper_widths() -> Widths:
    return Widths()


def _check_dtype(name: str):
    allowed = {"float32": tf.float32, "bfloat16": tf.bfloat16, "float16": tf.float16}
    key = getattr(name, "name", name)
    if key not in allowed:
        raise ValueError(f"compute_dtype must be one of {', '.join(allowed)}, got {name!r}")
    return allowed[key]


def _bn(decay, name):
    return snt.BatchNorm(create_scale=True, create_offset=True, decay_rate=decay, name=name)


def _run_bn(module, x, is_training):
    # Batch norm always runs in float32 (its statistics need the range), then casts back.
    y = module(tf.cast(x, tf.float32), is_training=is_training, test_local_stats=False)
    return tf.cast(y, x.dtype)


class SeparableConv2D(snt.Module):
    """Depthwise 3x3 conv (one filter per input channel, no bias) then a 1x1 conv.

    A regular 3x3 conv from C to K channels has 9*C*K weights; this has 9*C + C*K:
    the spatial and the cross-channel parts are learned separately (the paper's
    hypothesis). No bias: every separable conv in Xception is followed by batch norm.
    """

    def __init__(self, output_channels: int, kernel_shape: int = 3, name=None):
        super().__init__(name=name)
        self.depthwise = snt.DepthwiseConv2D(kernel_shape, channel_multiplier=1,
                                             padding="SAME", with_bias=False,
                                             name="depthwise")
        self.pointwise = snt.Conv2D(output_channels, 1, with_bias=False, name="pointwise")

    def __call__(self, x):
        return self.pointwise(self.depthwise(x))


class Stem(snt.Module):
    """conv 3x3/2 (unpadded) + BN + ReLU, conv 3x3 (unpadded) + BN + ReLU."""

    def __init__(self, widths: Sequence[int], bn_decay: float, name="stem"):
        super().__init__(name=name)
        self.conv1 = snt.Conv2D(widths[0], 3, stride=2, padding="VALID", with_bias=False,
                                name="conv1")
        self.bn1 = _bn(bn_decay, "bn1")
        self.conv2 = snt.Conv2D(widths[1], 3, padding="VALID", with_bias=False, name="conv2")
        self.bn2 = _bn(bn_decay, "bn2")

    def __call__(self, x, is_training):
        x = tf.nn.relu(_run_bn(self.bn1, self.conv1(x), is_training))
        return tf.nn.relu(_run_bn(self.bn2, self.conv2(x), is_training))


class EntryBlock(snt.Module):
    """Two separable convs with BN (ReLU between), 3x3/2 max-pool; 1x1/2 conv residual.

    ``widths``: one width (both separable convs) or two (first, second; the exit
    flow's block is 728 then 1024). ``relu_first``: the first entry block follows the
    stem's ReLU, so it starts with its separable conv directly.
    """

    def __init__(self, widths, bn_decay: float, relu_first: bool = True, name=None):
        super().__init__(name=name)
        w1, w2 = (widths, widths) if isinstance(widths, int) else tuple(widths)
        self.relu_first = relu_first
        self.sep1 = SeparableConv2D(w1, name="sep1")
        self.bn1 = _bn(bn_decay, "bn1")
        self.sep2 = SeparableConv2D(w2, name="sep2")
        self.bn2 = _bn(bn_decay, "bn2")
        self.residual = snt.Conv2D(w2, 1, stride=2, padding="SAME", with_bias=False,
                                   name="residual")
        self.residual_bn = _bn(bn_decay, "residual_bn")

    def __call__(self, x, is_training):
        shortcut = _run_bn(self.residual_bn, self.residual(x), is_training)
        h = tf.nn.relu(x) if self.relu_first else x
        h = tf.nn.relu(_run_bn(self.bn1, self.sep1(h), is_training))
        h = _run_bn(self.bn2, self.sep2(h), is_training)
        h = tf.nn.max_pool2d(h, 3, 2, "SAME")
        return h + shortcut


class MiddleBlock(snt.Module):
    """Three times (ReLU, separable conv, BN), plus the input (identity residual)."""

    def __init__(self, width: int, bn_decay: float, name=None):
        super().__init__(name=name)
        self.seps = [SeparableConv2D(width, name=f"sep{i + 1}") for i in range(3)]
        self.bns = [_bn(bn_decay, f"bn{i + 1}") for i in range(3)]

    def __call__(self, x, is_training):
        h = x
        for sep, norm in zip(self.seps, self.bns):
            h = _run_bn(norm, sep(tf.nn.relu(h)), is_training)
        return h + x


class ExitFlow(snt.Module):
    """The exit block (like an entry block, 728 then 1024), then separable convs
    1536 and 2048, each followed by BN and ReLU."""

    def __init__(self, exit_widths, top_widths, bn_decay: float, name="exit_flow"):
        super().__init__(name=name)
        self.block = EntryBlock(tuple(exit_widths), bn_decay, name="exit_block")
        self.sep1 = SeparableConv2D(top_widths[0], name="sep1")
        self.bn1 = _bn(bn_decay, "bn1")
        self.sep2 = SeparableConv2D(top_widths[1], name="sep2")
        self.bn2 = _bn(bn_decay, "bn2")

    def __call__(self, x, is_training):
        x = self.block(x, is_training)
        x = tf.nn.relu(_run_bn(self.bn1, self.sep1(x), is_training))
        return tf.nn.relu(_run_bn(self.bn2, self.sep2(x), is_training))


class Xception(snt.Module):
    """Xception for ``num_classes`` classes.

    Hyper-parameters: ``widths`` (a :class:`Widths`, or a dict of its fields),
    ``middle_blocks`` (8 in the paper), ``head`` (``"paper"`` or ``"lesson"``),
    ``dense_units`` and ``dropout`` (lesson head only), ``bn_decay`` (moving
    averages of the batch-norm statistics), ``compute_dtype`` (see module doc),
    ``image_size`` (the size the model is trained for; used by the SavedModel
    signature; any size >= 7 works in Python).

    ``features(x, is_training)``: the exit flow's 4-D feature map (before pooling);
    ``head(features, is_training)``: the logits; ``embed(x, is_training)``: the vector
    just before the classifier (256-d with the lesson head, the pooled features with
    the paper head); ``__call__(x, is_training) = head(features(x))``.
    """

    def __init__(self, num_classes: int = 1000, widths=None, middle_blocks: int = 8,
                 head: str = "paper", dense_units: int = 256, dropout: float = 0.5,
                 bn_decay: float = 0.99, compute_dtype: str = "float32",
                 image_size: int | None = None, name: str = "xception"):
        super().__init__(name=name)
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes!r}")
        if int(middle_blocks) < 0:
            raise ValueError(f"middle_blocks must be >= 0, got {middle_blocks!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout is a rate in [0, 1), got {dropout!r}")
        if image_size is not None and int(image_size) < MIN_IMAGE_SIZE:
            raise ValueError(f"image_size must be at least {MIN_IMAGE_SIZE}, got {image_size}")
        widths = Widths.from_any(widths)
        self.compute_dtype = _check_dtype(compute_dtype)
        self.config = dict(num_classes=int(num_classes), widths=widths.as_dict(),
                           middle_blocks=int(middle_blocks), head=head,
                           dense_units=int(dense_units), dropout=float(dropout),
                           bn_decay=float(bn_decay), image_size=image_size)
        self.num_classes = int(num_classes)
        self.head_kind = head
        self.stem = Stem(widths.stem, bn_decay)
        self.entry_flow = [
            EntryBlock(w, bn_decay, relu_first=i > 0, name=f"entry_block{i + 1}")
            for i, w in enumerate(widths.entry)]
        self.middle_flow = [MiddleBlock(widths.middle, bn_decay, name=f"middle_block{i + 1}")
                            for i in range(int(middle_blocks))]
        self.exit_flow = ExitFlow(widths.exit, widths.top, bn_decay)
        if head == "lesson":
            self.dense = snt.Linear(int(dense_units), name="dense")
            self.dropout = snt.Dropout(float(dropout), name="dropout")
        self.classifier = snt.Linear(self.num_classes, name="classifier")
        self._variables_built = False

    # ---------------------------------------------------------------- structure
    def stages(self):
        """``(name, module)`` pairs of the feature extractor, input to output."""
        return ([("stem", self.stem)]
                + [(m.name, m) for m in self.entry_flow]
                + [(m.name, m) for m in self.middle_flow]
                + [("exit_flow", self.exit_flow)])

    def _weight_modules(self):
        """Modules whose weights run in ``compute_dtype`` (convs and linears)."""
        kinds = (snt.Conv2D, snt.DepthwiseConv2D, snt.Linear)
        return [m for m in self.submodules if isinstance(m, kinds)]

    def _mixed(self):
        return self.compute_dtype != tf.float32

    def _ensure_variables(self):
        """Under mixed precision, create every variable in float32 before the first
        low-precision call (Sonnet creates variables in the dtype of the first input)."""
        if self._variables_built or not self._mixed():
            return
        self._variables_built = True
        x = tf.zeros([1, MIN_IMAGE_SIZE, MIN_IMAGE_SIZE, 3], tf.float32)
        self._head(self._features(x, False), False)

    def _compute(self, fn, x, is_training):
        if not self._mixed():
            return fn(x, is_training)
        self._ensure_variables()
        dtype = self.compute_dtype
        with snt.custom_variable_getter(lambda v: tf.cast(v, dtype),
                                        instances=self._weight_modules()):
            return fn(tf.cast(x, dtype), is_training)

    # ---------------------------------------------------------------- forward
    def _features(self, x, is_training):
        x = x * 2.0 - 1.0   # [0, 1] images to [-1, 1]
        for _, stage in self.stages():
            x = stage(x, is_training)
        return x

    def _pool(self, features):
        return tf.reduce_mean(features, axis=(1, 2))

    def _embedding(self, features, is_training):
        pooled = self._pool(features)
        if self.head_kind == "paper":
            return pooled
        return tf.nn.relu(self.dense(pooled))

    def _head(self, features, is_training):
        h = self._embedding(features, is_training)
        if self.head_kind == "lesson":
            h = self.dropout(h, is_training=is_training)
        return self.classifier(h)

    def _embed(self, x, is_training):
        return self._embedding(self._features(x, is_training), is_training)

    def features(self, x, is_training):
        """The exit flow's output, a 4-D feature map ``[batch, h, w, widths.top[1]]``."""
        return tf.cast(self._compute(self._features, tf.convert_to_tensor(x), is_training),
                       tf.float32)

    def head(self, features, is_training):
        """Logits (float32) from the feature map: pool, [dense, dropout], classifier."""
        return tf.cast(self._compute(self._head, tf.convert_to_tensor(features),
                                     is_training), tf.float32)

    def embed(self, x, is_training=False):
        """The vector before the classifier (256-d with the lesson head), float32."""
        return tf.cast(self._compute(self._embed, tf.convert_to_tensor(x), is_training),
                       tf.float32)

    def __call__(self, x, is_training):
        def forward(x, is_training):
            return self._head(self._features(x, is_training), is_training)

        return tf.cast(self._compute(forward, tf.convert_to_tensor(x), is_training),
                       tf.float32)


# --------------------------------------------------------------------------- inspection


def trainable_parameters(module) -> int:
    """Number of trainable scalars (kernels, BN scale/offset, biases; not moving stats)."""
    import numpy as np

    return int(sum(np.prod(v.shape) for v in module.trainable_variables))


def paper_model(num_classes: int = 1000):
    """The paper's configuration (built on a 299x299 input so its variables exist)."""
    model = Xception(num_classes=num_classes, head="paper", image_size=299)
    model(tf.zeros([1, 299, 299, 3]), is_training=False)
    return model


def structure(module, image_size: int, batch: int = 1) -> list[tuple[str, tuple, int]]:
    """``(stage, output shape, trainable parameters)`` rows for one forward pass at
    ``image_size`` (variables are created by the pass if needed)."""
    if int(image_size) < MIN_IMAGE_SIZE:
        raise ValueError(f"image_size must be at least {MIN_IMAGE_SIZE}, got {image_size}")
    x = tf.zeros([batch, image_size, image_size, 3])
    module(x, is_training=False)   # create every variable
    rows = [("input", tuple(x.shape), 0)]
    h = x * 2.0 - 1.0
    for name, stage in module.stages():
        h = stage(h, False)
        rows.append((name, tuple(h.shape), trainable_parameters(stage)))
    pooled = tf.reduce_mean(h, axis=(1, 2))
    rows.append(("global_avg_pool", tuple(pooled.shape), 0))
    if module.head_kind == "lesson":
        emb = tf.nn.relu(module.dense(pooled))
        rows.append(("dense+relu", tuple(emb.shape), trainable_parameters(module.dense)))
        rows.append(("dropout", tuple(emb.shape), 0))
        pooled = emb
    logits = module.classifier(pooled)
    rows.append(("classifier", tuple(logits.shape), trainable_parameters(module.classifier)))
    return rows


def format_structure(rows) -> str:
    lines = [f"{'stage':16s} {'output shape':22s} {'trainable':>12s}"]
    for name, shape, n in rows:
        lines.append(f"{name:16s} {str(shape):22s} {n:>12,d}")
    lines.append(f"{'total':16s} {'':22s} {sum(r[2] for r in rows):>12,d}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- save / load


def model_dir() -> Path:
    return paths.model_path(MODEL_DIR)


def export_signature_module(module, image_size: int):
    """A ``tf.Module`` whose ``serve`` is a ``tf.function`` with a fixed input signature:
    float32 images ``[None, image_size, image_size, 3]`` in [0, 1] -> ``{"logits"}``
    (and ``embed`` -> ``{"embedding"}``). ``tf.saved_model.save`` needs such a function."""
    spec = tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="images")

    class Exported(tf.Module):
        def __init__(self):
            super().__init__(name="xception_flowers")
            self.model = module

        @tf.function(input_signature=[spec])
        def serve(self, images):
            return {"logits": self.model(images, is_training=False)}

        @tf.function(input_signature=[spec])
        def embed(self, images):
            return {"embedding": self.model.embed(images, is_training=False)}

    return Exported()


def _plain(value):
    """``value`` with the dicts and lists that ``tf.Module`` attribute tracking wraps made
    plain again: with Colab's versions (TensorFlow 2.20, wrapt 2.3) they are proxies that
    ``json`` rejects (and that ``typing.Mapping`` does not recognise)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def save(module, directory: str | os.PathLike | None = None, *, image_size: int,
         class_names: Sequence[str] = (), extra: dict | None = None,
         saved_model: bool = True) -> Path:
    """Write ``config.json`` + ``checkpoint/`` (+ ``saved_model/``) for ``module``.

    Everything is written into a temporary folder next to ``directory`` and renamed
    into place at the end, so a reader never finds half a model. Returns the folder.
    """
    dest = Path(directory) if directory is not None else model_dir()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        tf.train.Checkpoint(model=module).write(str(tmp / "checkpoint" / "model"))
        if saved_model:
            exported = export_signature_module(module, image_size)
            tf.saved_model.save(exported, str(tmp / "saved_model"),
                                signatures={"serving_default": exported.serve,
                                            "embed": exported.embed})
        config = {"kwargs": {**_plain(module.config), "image_size": int(image_size)},
                  "class_names": list(class_names), **(extra or {})}
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n",
                                       encoding="utf-8")
        replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def read_config(directory: str | os.PathLike | None = None) -> dict:
    """The ``config.json`` of a saved model folder (clear error if missing or broken)."""
    folder = Path(directory) if directory is not None else model_dir()
    path = folder / CONFIG_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no saved Xception here; run notebook 02 or "
                                "edgelab.xception.load_or_train() to create one.")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        config["kwargs"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: not an edgelab Xception config ({err}); delete the folder "
                         "and save the model again.") from None
    return config


def load(directory: str | os.PathLike | None = None, *, compute_dtype: str = "float32"):
    """Rebuild the saved module from ``config.json`` and restore its checkpoint.

    Returns ``(module, config)``. Every saved variable must find its place (and every
    variable of the module must be restored), else this raises.
    """
    folder = Path(directory) if directory is not None else model_dir()
    config = read_config(folder)
    kwargs = dict(config["kwargs"])
    module = Xception(**kwargs, compute_dtype=compute_dtype)
    prefix = folder / "checkpoint" / "model"
    if not Path(f"{prefix}.index").exists():
        raise FileNotFoundError(f"{prefix}.index: the checkpoint of the saved Xception is "
                                "missing; save the model again.")
    status = tf.train.Checkpoint(model=module).read(str(prefix))
    size = int(kwargs.get("image_size") or 149)
    module(tf.zeros([1, size, size, 3]), is_training=False)   # create variables -> restored
    status.assert_consumed()
    return module, config
