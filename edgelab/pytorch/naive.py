"""The naive port: the same network rebuilt in Keras with ``data_format="channels_first"``.

This is what converting "by hand" often looks like: every layer keeps PyTorch's NCHW
layout, and the weights are copied over with only the kernel axes reordered (PyTorch
stores a convolution kernel as ``[out, in, kh, kw]``, Keras as ``[kh, kw, in, out]``).
The Keras model gives the same outputs as PyTorch, but TensorFlow's and LiteRT's kernels
are NHWC, so the converter wraps every convolution, pooling and resize in a TRANSPOSE
pair, and then cancels the pairs that meet between two NHWC kernels; what stays sits
where the NCHW order itself matters (the input and outputs, a concat on axis 1, the
flatten) and where one tensor feeds consumers that want different layouts (a skip
connection). A dilated convolution in NCHW is lowered by TensorFlow as SPACE_TO_BATCH_ND, a
convolution and BATCH_TO_SPACE_ND over three "spatial" axes, which LiteRT's kernels do
not accept: that file fails ``allocate_tensors``.

``expand_dilation=True`` writes the dilated 3x3 kernel as the 5x5 kernel it is
equivalent to (the nine weights spread out, zeros in between): the same function, no
SPACE_TO_BATCH_ND, so the naive port runs, at 25/9 times the multiply-adds of that layer.
"""

from __future__ import annotations

import numpy as np

CF = "channels_first"


def _kernel(conv) -> np.ndarray:
    """A PyTorch conv weight as a Keras kernel ``[kh, kw, in, out]``."""
    return conv.weight.detach().numpy().transpose(2, 3, 1, 0)


def dilated_as_dense(kernel: np.ndarray, dilation: int) -> np.ndarray:
    """A ``[k, k, in, out]`` kernel with dilation ``d`` as the equivalent undilated kernel of
    side ``d * (k - 1) + 1``: the weights on every d-th tap, zeros between them."""
    k = kernel.shape[0]
    side = dilation * (k - 1) + 1
    dense = np.zeros((side, side, *kernel.shape[2:]), kernel.dtype)
    dense[::dilation, ::dilation] = kernel
    return dense


def torch_nn():
    from torch import nn

    return nn


def dilation_expanded(torch_model):
    """A copy of a :class:`~edgelab.pytorch.model.TinyU2Net` whose dilated 3x3 convolution
    is the equivalent dense 5x5 one (:func:`dilated_as_dense`): the same function and the
    same arithmetic as ``keras_port(..., expand_dilation=True)``, so that two routes can be
    timed on equal work."""
    import copy

    import torch

    model = copy.deepcopy(torch_model).eval()
    for block in (model.enc1, model.enc3, model.dec2, model.dec1):
        conv = block[0]
        d = conv.dilation[0]
        if d == 1:
            continue
        kernel = dilated_as_dense(_kernel(conv), d)               # [k, k, in, out]
        dense = torch_nn().Conv2d(conv.in_channels, conv.out_channels, kernel.shape[0],
                                  padding=kernel.shape[0] // 2, bias=False)
        with torch.no_grad():
            dense.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
        block[0] = dense
    return model


def keras_port(torch_model, *, expand_dilation: bool = False):
    """A Keras 3 model with NCHW input ``[1, 3, S, S]`` and outputs ``[mask, logits]`` that
    computes what ``torch_model`` (a :class:`~edgelab.pytorch.model.TinyU2Net` in eval
    mode) computes, layer for layer, in channels-first layout."""
    import keras

    L = keras.layers
    m = torch_model
    weights: list[tuple[keras.layers.Layer, list[np.ndarray]]] = []

    def bn(x, torch_bn):
        layer = L.BatchNormalization(axis=1, epsilon=torch_bn.eps)
        weights.append((layer, [t.detach().numpy() for t in (
            torch_bn.weight, torch_bn.bias, torch_bn.running_mean, torch_bn.running_var)]))
        return layer(x)

    def conv_bn_relu(x, block):
        conv, norm = block[0], block[1]
        d = conv.dilation[0]
        kernel = _kernel(conv)
        if d > 1 and expand_dilation:
            kernel, d = dilated_as_dense(kernel, d), 1
        layer = L.Conv2D(conv.out_channels, kernel.shape[0], padding="same", dilation_rate=d,
                         use_bias=False, data_format=CF)
        weights.append((layer, [kernel]))
        return L.ReLU()(bn(layer(x), norm))

    size = m.image_size
    image = keras.Input((3, size, size), batch_size=1, name="image")
    e1 = conv_bn_relu(image, m.enc1)
    depthwise, pointwise, norm = m.enc2[0], m.enc2[1], m.enc2[2]
    dw = L.DepthwiseConv2D(3, padding="same", use_bias=False, data_format=CF)
    weights.append((dw, [depthwise.weight.detach().numpy().transpose(2, 3, 0, 1)]))
    pw = L.Conv2D(pointwise.out_channels, 1, use_bias=False, data_format=CF)
    weights.append((pw, [_kernel(pointwise)]))
    e2 = L.ReLU()(bn(pw(dw(L.MaxPooling2D(2, data_format=CF)(e1))), norm))
    e3 = conv_bn_relu(L.MaxPooling2D(2, data_format=CF)(e2), m.enc3)
    up = L.UpSampling2D(2, data_format=CF, interpolation="bilinear")
    d2 = conv_bn_relu(L.Concatenate(axis=1)([up(e3), e2]), m.dec2)
    up = L.UpSampling2D(2, data_format=CF, interpolation="bilinear")
    d1 = conv_bn_relu(L.Concatenate(axis=1)([up(d2), e1]), m.dec1)
    head = L.Conv2D(m.mask_head.out_channels, 1, data_format=CF, activation="sigmoid",
                    name="mask")
    weights.append((head, [_kernel(m.mask_head), m.mask_head.bias.detach().numpy()]))
    if isinstance(m.head_pool, torch_nn().AdaptiveAvgPool2d):    # head_grid=1: global pooling
        pooled = L.GlobalAveragePooling2D(data_format=CF, keepdims=True)(e3)
    else:
        pooled = L.AveragePooling2D(m.head_pool.kernel_size, data_format=CF)(e3)
    # Keras' Flatten(data_format="channels_first") would reorder to (H, W, C) first; a plain
    # reshape keeps PyTorch's (C, H, W) order, which the linear layer's weights expect.
    flat = L.Reshape((-1,))(pooled)
    dense = L.Dense(m.classifier.out_features, name="logits")
    weights.append((dense, [m.classifier.weight.detach().numpy().T,
                            m.classifier.bias.detach().numpy()]))
    model = keras.Model(image, [head(d1), dense(flat)], name="naive_channels_first")
    for layer, values in weights:
        layer.set_weights(values)
    return model


def to_tflite(keras_model, path) -> None:
    """Convert the Keras port (SavedModel, then the TFLite converter), atomically."""
    import tempfile
    from pathlib import Path

    from edgelab.core.atomic import atomic_path
    from edgelab.pytorch.export import native_output_silenced
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="edgelab-naive-") as tmp:
        with native_output_silenced():
            keras_model.export(str(Path(tmp) / "saved_model"), format="tf_saved_model",
                               verbose=False)
            data = tf.lite.TFLiteConverter.from_saved_model(str(Path(tmp) / "saved_model")).convert()
    with atomic_path(path) as part:
        part.write_bytes(data)
