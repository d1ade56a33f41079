"""Exercises of notebook 07: conversion and quantization, reading a .tflite.

Each one practises one of the lesson's subject calls or formulas: the converter settings of
a full-integer model, per-channel weight scales, dequantizing a uint8 file by hand,
pruning that keeps its zeros, a paired standard error, and distillation's soft loss.
Everything runs offline in the quick profile in well under a minute per check.
"""

from __future__ import annotations

import numpy as np

from edgelab.exercises.core import Exercise, Mistake

# --------------------------------------------------------------------------- helpers


def _as_bytes(model) -> bytes:
    from pathlib import Path

    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    if isinstance(model, (str, Path)) and Path(model).is_file():
        return Path(model).read_bytes()
    raise TypeError(f"give the converter's result (bytes) or a .tflite path, not "
                    f"{type(model).__name__}")


def _close(a, b, rtol=1e-5, atol=1e-7) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --------------------------------------------------------------------------- 1


class FullIntegerUint8(Exercise):
    """The converter settings of a full-integer model, with a uint8 interface."""

    number = 1
    title = "Full integer with a uint8 interface"
    answers = ("uint8_model",)
    where = "class"
    minutes = 10
    starter = '''
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    # your settings: calibrate on `calibration`, integer kernels only, and a uint8 input and
    # output (what older accelerators and the Coral models of section 6 take)

    uint8_model = ____   # converter.convert(), once your settings are in
    '''
    hint = """
    Section 1's `tflite_bytes` has every setting a full-integer model needs: a
    `representative_dataset` generator that yields `[one_image_with_batch_axis]`,
    `target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]`, and
    `inference_input_type` / `inference_output_type`. Only the interface type changes here:
    `tf.uint8`. Feed the calibration images exactly as the model takes them (float32 in [0, 1]).
    """
    solution = '''
    def calibration_images():        # the representative dataset: one input list per step
        for image in calibration[:100]:
            yield [image[None]]          # one float32 image in [0, 1], with its batch axis

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = calibration_images
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]   # integer kernels only
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.uint8
    with convert.native_output_silenced():   # keeps the converter's C++ prints out of the cell
        uint8_model = converter.convert()
    '''
    explanation = """
    `optimizations = [DEFAULT]` alone quantizes only the weights (dynamic range). The
    representative dataset lets the converter record every activation's range, so
    activations can be int8 too; `TFLITE_BUILTINS_INT8` makes it fail rather than keep a
    float kernel; the two inference types decide what the app feeds and reads. Inside, the
    model stays int8 (per-channel weights); a uint8 interface only adds one QUANTIZE at each
    end, and the input's zero point moves from -128 to 0: pixels in [0, 1] map to 0..255
    with scale 1/255. Calibrating on raw 0..255 pixels would give scale 1, and every real
    input (0..1) would land on the two lowest levels.
    """
    messages = {
        "passed": "right: uint8 in and out, int8 weights and activations inside, input scale "
                  "1/{inv:.0f} with zero point {zp}, {ops}",
        "dynamic": "your file takes FLOAT32 and keeps float activations: only the weights are "
                   "int8 (dynamic range). A representative_dataset lets the converter choose "
                   "activation ranges, and the inference types make the interface integer",
        "float_io": "the inside is integer, but the file takes {inp} and returns {out}: set "
                    "converter.inference_input_type and inference_output_type to tf.uint8",
        "int8_io": "your interface is {inp} in, {out} out; this exercise asks for uint8 (what "
                   "the Coral models take): tf.uint8 for both inference types",
        "range": "the input's scale is {scale:.3g} (zero point {zp}): the converter saw "
                 "calibration values up to about {top:.0f}. The model takes pixels in [0, 1]; "
                 "feed the representative dataset the same float32 images, not 0..255",
        "float_op": "layer #{index} ({op}) still computes in float ({dtype}): add "
                    "target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]",
    }
    mistakes = [
        Mistake('''
converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
converter.optimizations = [tf.lite.Optimize.DEFAULT]
with convert.native_output_silenced():
    uint8_model = converter.convert()
''', "dynamic", "only optimizations = [DEFAULT]: a dynamic-range model"),
        Mistake('''
converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
converter.optimizations = [tf.lite.Optimize.DEFAULT]
def representative_dataset():
    for image in calibration[:100]:
        yield [image[None]]
converter.representative_dataset = representative_dataset
with convert.native_output_silenced():
    uint8_model = converter.convert()
''', "float_io", "a representative dataset but no inference types: float interface"),
        Mistake('''
converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
converter.optimizations = [tf.lite.Optimize.DEFAULT]
def representative_dataset():
    for image in calibration[:100]:
        yield [image[None]]
converter.representative_dataset = representative_dataset
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
converter.inference_input_type = tf.int8
converter.inference_output_type = tf.int8
with convert.native_output_silenced():
    uint8_model = converter.convert()
''', "int8_io", "the lesson's int8 interface copied, not uint8"),
        Mistake('''
converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
converter.optimizations = [tf.lite.Optimize.DEFAULT]
def representative_dataset():
    for image in calibration[:100]:
        yield [image[None] * 255.0]
converter.representative_dataset = representative_dataset
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
converter.inference_input_type = tf.uint8
converter.inference_output_type = tf.uint8
with convert.native_output_silenced():
    uint8_model = converter.convert()
''', "range", "calibrated on 0..255 pixels while the model takes 0..1"),
    ]

    def verify(self, uint8_model):
        from edgelab.edge import inspect

        info = inspect.read(_as_bytes(uint8_model))
        io = info.io_details()
        inp, out = io["inputs"][0]["dtype"], io["outputs"][0]["dtype"]
        weights = [info.weights_of(l) for l in info.layers
                   if l.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
        weights = [w for w in weights if w is not None]
        activations_float = any(info.tensor(l.outputs[0]).dtype == "FLOAT32"
                                for l in info.layers if l.op in ("CONV_2D", "FULLY_CONNECTED"))
        if inp == "FLOAT32" and activations_float:
            return self.wrong("dynamic")
        for layer in info.layers:
            if layer.op in ("QUANTIZE", "DEQUANTIZE"):
                continue
            dtype = info.tensor(layer.outputs[0]).dtype
            if dtype in ("FLOAT32", "FLOAT16") and inp != "FLOAT32":
                return self.wrong("float_op", index=layer.index, op=layer.op, dtype=dtype)
        if "FLOAT32" in (inp, out):
            return self.wrong("float_io", inp=inp, out=out)
        if (inp, out) != ("UINT8", "UINT8"):
            return self.wrong("int8_io", inp=inp, out=out)
        q = info.tensor(info.inputs[0]).quantization
        scale, zp = q.scale[0], q.zero_point[0]
        if not 0.5 / 255 < scale < 2.0 / 255:
            return self.wrong("range", scale=scale, zp=zp, top=scale * (255 - zp))
        if any(w.dtype != "INT8" for w in weights):
            bad = next(w for w in weights if w.dtype != "INT8")
            return self.wrong("float_op", index=0, op=bad.name[:40], dtype=bad.dtype)
        ops = ", ".join(f"{op} x{n}" for op, n in info.ops_histogram().items())
        return self.passed(inv=1 / scale, zp=zp, ops=ops)


# --------------------------------------------------------------------------- 2


def _per_channel(kernel: np.ndarray, axis: int) -> np.ndarray:
    keep = tuple(i for i in range(kernel.ndim) if i != axis)
    scale = np.abs(kernel).max(axis=keep, keepdims=True) / 127.0
    scale = np.where(scale == 0, 1.0, scale)
    return np.clip(np.round(kernel / scale), -127, 127) * scale


class PerChannelWeights(Exercise):
    """Symmetric int8 weights with one scale per output channel, by hand."""

    number = 2
    title = "Per-channel weight scales, by hand"
    answers = ("kernel", "restored")
    where = "class"
    minutes = 10
    starter = '''
    kernel = mnist.model.get_layer("dense").kernel.numpy()   # Keras Dense: [in, out] = [3136, 1024]
    restored = ____   # the values int8 gives back: symmetric, one scale per output channel
    '''
    hint = """
    An output channel of a Dense kernel is a column (Keras stores `[in, out]`). Its scale is
    its largest absolute weight divided by 127, so that this weight maps to +-127:
    `np.abs(kernel).max(axis=0, keepdims=True) / 127`. Then round `kernel / scale` to whole
    numbers, clip to [-127, 127], and multiply by the scale again.
    """
    solution = '''
    kernel = mnist.model.get_layer("dense").kernel.numpy()
    scale = np.abs(kernel).max(axis=0, keepdims=True) / 127    # one per column (output channel)
    restored = np.clip(np.round(kernel / scale), -127, 127) * scale
    '''
    explanation = """
    TensorFlow's int8 scheme stores weights symmetrically (zero point 0) with one scale per
    output channel, so a column of small weights gets a fine step of its own instead of the
    step the largest column in the layer needs. Every restored weight is then within half a
    step of the original. To see what it buys, put `restored` into a copy of the model
    (`layer.kernel.assign(...)`) and compare the accuracy with the per-tensor version (one
    scale, `np.abs(kernel).max() / 127`): on this dense layer the two differ little because
    its columns have similar ranges; on the depthwise layers of section 5 they do not.
    """
    messages = {
        "passed": "right: {channels} scales, one per output channel; RMS rounding error "
                  "{rms:.2e} (per-tensor would give {rms_tensor:.2e})",
        "shape": "restored has shape {got}; it should have the kernel's shape {want}",
        "per_tensor": "you used one scale for the whole kernel (per-tensor): every column "
                      "then shares the step of the column with the largest weight. Take the "
                      "maximum over axis 0 only, keeping one value per column",
        "axis": "your scales run along the wrong axis: one per input row (axis 1). A Keras "
                "Dense kernel is [in, out], so an output channel is a column: max over axis 0",
        "levels": "your step is half what int8 allows or less (a divisor of {divisor}): the "
                  "largest weight must map to 127, the largest symmetric int8 value",
        "not_rounded": "restored equals the kernel: nothing was rounded. Quantization keeps "
                       "only whole numbers of steps: np.round(kernel / scale)",
        "off": "restored differs from symmetric per-channel int8 by up to {err:.3g} (a step "
               "is about {step:.3g}); check the scale (max |w| per column / 127) and the rounding",
    }
    mistakes = [
        Mistake('''
kernel = mnist.model.get_layer("dense").kernel.numpy()
scale = np.abs(kernel).max() / 127
restored = np.clip(np.round(kernel / scale), -127, 127) * scale
''', "per_tensor", "one scale for the whole tensor (per-tensor)"),
        Mistake('''
kernel = mnist.model.get_layer("dense").kernel.numpy()
scale = np.abs(kernel).max(axis=1, keepdims=True) / 127
restored = np.clip(np.round(kernel / scale), -127, 127) * scale
''', "axis", "scales per input row: the wrong axis of a [in, out] kernel"),
        Mistake('''
kernel = mnist.model.get_layer("dense").kernel.numpy()
scale = np.abs(kernel).max(axis=0, keepdims=True) / 127
restored = kernel / scale * scale
''', "not_rounded", "scaled but never rounded"),
    ]

    def verify(self, kernel, restored):
        kernel = np.asarray(kernel, np.float64)
        restored = np.asarray(restored, np.float64)
        if kernel.ndim != 2:
            raise ValueError(f"kernel should be a Dense kernel [in, out], got shape {kernel.shape}")
        if restored.shape != kernel.shape:
            return self.wrong("shape", got=restored.shape, want=kernel.shape)
        want = _per_channel(kernel, axis=1)
        step = float(np.median(np.abs(kernel).max(axis=0)) / 127)
        if _close(restored, want, rtol=1e-4, atol=1e-6 * max(step, 1e-12)):
            rms = float(np.sqrt(np.mean((want - kernel) ** 2)))
            tensor_scale = np.abs(kernel).max() / 127
            per_tensor = np.clip(np.round(kernel / tensor_scale), -127, 127) * tensor_scale
            return self.passed(channels=kernel.shape[1], rms=rms,
                               rms_tensor=float(np.sqrt(np.mean((per_tensor - kernel) ** 2))))
        if _close(restored, kernel, rtol=1e-5, atol=1e-9):
            return self.wrong("not_rounded")
        tensor_scale = np.abs(kernel).max() / 127
        if _close(restored, np.clip(np.round(kernel / tensor_scale), -127, 127) * tensor_scale,
                  rtol=1e-4):
            return self.wrong("per_tensor")
        if _close(restored, _per_channel(kernel, axis=0), rtol=1e-4):
            return self.wrong("axis")
        for divisor in (255, 254, 256):
            s = np.abs(kernel).max(axis=0, keepdims=True) / divisor
            if _close(restored, np.round(kernel / s) * s, rtol=1e-4):
                return self.wrong("levels", divisor=divisor)
        return self.wrong("off", err=float(np.abs(restored - want).max()), step=step)


# --------------------------------------------------------------------------- 3


class DequantizeUint8(Exercise):
    """Real weights from a uint8 file with a non-zero zero point."""

    number = 3
    title = "Dequantize the Coral model's uint8 weights by hand"
    answers = ("weights",)
    where = "class"
    minutes = 5
    starter = '''
    w = v1.weights_of(v1.layers[0])               # the first convolution of mobilenet_v1_0.25_128
    q = v1.tensor_data(w.index)                   # the stored integers: uint8, [8, 3, 3, 3]
    scale, zero_point = w.quantization.scale[0], w.quantization.zero_point[0]
    weights = ____   # the real-valued weights, float32, the same shape as q
    '''
    hint = """
    `real = scale * (q - zero_point)`, with the zero point printed in section 6 (157 for this
    kernel). Watch the dtype: `q` is uint8, and NumPy keeps `q - 157` in uint8, so every
    value below 157 wraps around to 256 + (q - 157). Convert first:
    `q.astype(np.int32)` or `q.astype(np.float32)`.
    """
    solution = '''
    w = v1.weights_of(v1.layers[0])
    q = v1.tensor_data(w.index)
    scale, zero_point = w.quantization.scale[0], w.quantization.zero_point[0]
    weights = (scale * (q.astype(np.float32) - zero_point)).astype(np.float32)
    '''
    explanation = """
    TensorFlow 1's uint8 scheme is asymmetric for weights too: the zero point (here 157)
    is the stored integer that means 0.0, and a weight is `scale * (q - zero_point)`. The
    int8 scheme of section 4 stores weights with zero point 0, which is why forgetting the
    zero point there costs nothing and here shifts every weight by `scale * 157`. And
    integer arithmetic in NumPy stays in the array's dtype: `uint8 - 157` wraps around
    instead of going negative. Your result should equal `v1.dequantized(w.index)`.
    """
    messages = {
        "passed": "right: {n} weights from {lo:.3f} to {hi:.3f}, the same as "
                  "v1.dequantized(w.index)",
        "shape": "weights has shape {got}; the kernel is {want}",
        "no_zero_point": "every weight is off by scale x zero point ({shift:.3f}): you left the "
                         "zero point out. This kernel is stored asymmetric: real = scale * (q - "
                         "zero_point)",
        "wrapped": "{count} of your weights are far too large: q is uint8, so q - zero_point "
                   "wrapped around (for example 100 - 157 became 199). Convert q to int32 or "
                   "float32 before subtracting",
        "inverted": "you divided by the scale: that is how a real value is quantized. Going "
                    "back, multiply: real = scale * (q - zero_point)",
        "off": "your weights differ from the file's dequantized values by up to {err:.3g}; "
               "use real = scale * (q - zero_point) with q as a signed or float array",
    }
    mistakes = [
        Mistake('''
w = v1.weights_of(v1.layers[0])
q = v1.tensor_data(w.index)
scale, zero_point = w.quantization.scale[0], w.quantization.zero_point[0]
weights = scale * q
''', "no_zero_point", "the zero point left out, as if the weights were symmetric int8"),
        Mistake('''
w = v1.weights_of(v1.layers[0])
q = v1.tensor_data(w.index)
scale, zero_point = w.quantization.scale[0], w.quantization.zero_point[0]
weights = scale * (q - zero_point)
''', "wrapped", "q - zero_point computed in uint8, which wraps around"),
        Mistake('''
w = v1.weights_of(v1.layers[0])
q = v1.tensor_data(w.index)
scale, zero_point = w.quantization.scale[0], w.quantization.zero_point[0]
weights = (q.astype(np.float32) - zero_point) / scale
''', "inverted", "divided by the scale instead of multiplying"),
    ]

    def verify(self, weights):
        from edgelab.edge import inspect, sources

        v1 = inspect.read(sources.coral_classifiers()["mobilenet_v1_0.25_128"])
        w = v1.weights_of(v1.layers[0])
        q = v1.tensor_data(w.index).astype(np.float64)
        scale, zp = w.quantization.scale[0], w.quantization.zero_point[0]
        want = scale * (q - zp)
        weights = np.asarray(weights, np.float64)
        if weights.shape != want.shape:
            return self.wrong("shape", got=weights.shape, want=want.shape)
        if _close(weights, want, rtol=1e-5, atol=1e-6):
            return self.passed(n=weights.size, lo=float(want.min()), hi=float(want.max()))
        if _close(weights, scale * q, rtol=1e-5, atol=1e-6):
            return self.wrong("no_zero_point", shift=scale * zp)
        if _close(weights, scale * ((q - zp) % 256), rtol=1e-5, atol=1e-6):
            return self.wrong("wrapped", count=int(np.sum(q < zp)))
        if _close(weights, (q - zp) / scale, rtol=1e-5):
            return self.wrong("inverted")
        return self.wrong("off", err=float(np.abs(weights - want).max()))


# --------------------------------------------------------------------------- 4


class KeepThePruned(Exercise):
    """Prune to 90% zeros and fine-tune without losing them."""

    number = 4
    title = "Prune to 90% and keep the zeros"
    answers = ("pruned90",)
    where = "class"
    minutes = 10
    starter = '''
    pruner90 = compress.MagnitudePruner(sparsity=0.9)
    pruned90 = ____   # mnist.model pruned to 90% zeros, then fine-tuned for one epoch on x_small, y_small
    '''
    hint = """
    `pruner90.prune(model)` returns a pruned copy. Fine-tuning with a plain `model.fit`
    lets the optimizer move the zeros again (Adam's update of a zero weight is not zero).
    `pruner90.fine_tune(pruned90, x_small, y_small, epochs=1)` passes the callback that
    puts the mask back after every step (`pruner90.callback()`, if you call `fit` yourself).
    """
    solution = '''
    pruner90 = compress.MagnitudePruner(sparsity=0.9)
    pruned90 = pruner90.prune(mnist.model)
    pruner90.fine_tune(pruned90, x_small, y_small, epochs=1, seed=lab.seed)
    '''
    explanation = """
    Magnitude pruning zeroes the 90% smallest weights of every kernel; fine-tuning wins
    back accuracy, but only with the mask re-applied after every step does the model keep
    its zeros (the optimizer's momentum would revive them). Then sweep: prune to 50, 80,
    90 and 95%, fine-tune each, and plot accuracy against `compress.gzip_bytes` of the int8
    file: accuracy holds up to a point and then falls, while the gzip'ed size keeps
    shrinking. Where the knee is depends on the network; measure it, as section 7 does for 80%.
    """
    messages = {
        "passed": "right: {share:.1%} of all kernel weights are zero, every kernel at least "
                  "{least:.1%}",
        "revived": "only {share:.1%} of the weights are zero (least in {layer}: {least:.1%}): "
                   "fine-tuning moved the pruned weights off zero. Fine-tune with the mask held "
                   "(pruner90.fine_tune, or fit with callbacks=[pruner90.callback()])",
        "sparsity": "{share:.1%} of the weights are zero: the exercise asks for 90%; build the "
                    "pruner with sparsity=0.9",
        "not_a_model": "pruned90 should be the pruned Keras model, got {kind}",
        "no_layers": "pruned90 has no Conv2D or Dense layer to prune: pass the model the "
                     "pruner returned",
    }
    mistakes = [
        Mistake('''
pruner90 = compress.MagnitudePruner(sparsity=0.9)
pruned90 = pruner90.prune(mnist.model)
pruned90.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
pruned90.fit(x_small, y_small, epochs=1, batch_size=128, verbose=0)
''', "revived", "fine-tuned with a plain fit: the optimizer revives the zeros"),
        Mistake('''
pruner90 = compress.MagnitudePruner(sparsity=0.8)
pruned90 = pruner90.prune(mnist.model)
pruner90.fine_tune(pruned90, x_small, y_small, epochs=1)
''', "sparsity", "the lesson's 80% copied"),
    ]

    def verify(self, pruned90):
        from edgelab.edge import compress

        if not hasattr(pruned90, "layers"):
            return self.wrong("not_a_model", kind=type(pruned90).__name__)
        counts = {}     # layer -> (zeros, weights)
        for layer in pruned90.layers:
            if type(layer).__name__ in compress.PRUNABLE_LAYERS:
                kernel = layer.depthwise_kernel if hasattr(layer, "depthwise_kernel") \
                    else layer.kernel
                w = np.asarray(kernel.numpy())
                counts[layer.name] = (int(np.sum(w == 0)), w.size)
        if not counts:
            return self.wrong("no_layers")
        share = sum(z for z, _ in counts.values()) / sum(n for _, n in counts.values())
        layer, (zeros, size) = min(counts.items(), key=lambda kv: kv[1][0] / kv[1][1])
        least = zeros / size

        def holds(fraction):   # every kernel has at least round(fraction * size) zeros
            return all(z >= round(fraction * n) for z, n in counts.values())

        if holds(0.9):
            return self.passed(share=share, least=least)
        if holds(0.8) and share < 0.85:
            return self.wrong("sparsity", share=share)
        return self.wrong("revived", share=share, layer=layer, least=least)


# --------------------------------------------------------------------------- 5


class PairedStandardError(Exercise):
    """The standard error of a difference measured on the same images."""

    number = 5
    title = "How sure is the int8 accuracy drop? A paired standard error"
    answers = ("f32_right", "i8_right", "se")
    where = "class"
    minutes = 10
    starter = '''
    f32_right = flower_table.attrs["correct"]["float32"]   # per test image: right (True) or wrong
    i8_right = flower_table.attrs["correct"]["int8"]
    se = ____   # the standard error of accuracy(int8) - accuracy(float32), from the per-image differences
    '''
    hint = """
    The two accuracies come from the same images, so look at the difference image by image:
    `d = i8_right.astype(float) - f32_right.astype(float)` is -1, 0 or +1. Its mean is the
    accuracy difference, and the standard error of a mean is `d.std() / np.sqrt(len(d))`.
    """
    solution = '''
    f32_right = flower_table.attrs["correct"]["float32"]
    i8_right = flower_table.attrs["correct"]["int8"]
    d = i8_right.astype(float) - f32_right.astype(float)     # -1, 0 or +1 per image
    se = d.std() / np.sqrt(len(d))
    '''
    explanation = """
    Both models see the same images and agree on most of them; only the images where they
    disagree carry information about which is better. The paired standard error uses
    exactly those, so it is much smaller than the standard error of either accuracy alone
    (`sqrt(p (1 - p) / n)`) or of two independent samples. A drop within about two paired
    standard errors is not told apart from chance on these images;
    `evaluate.paired_comparison` prints the same number with McNemar's exact test.
    """
    messages = {
        "passed": "right: {diff:+.2f} points with a paired SE of {se:.2f} points ({disc} of "
                  "{n} images disagree); within two SE of zero: not told apart from chance",
        "passed_far": "right: {diff:+.2f} points with a paired SE of {se:.2f} points ({disc} of "
                      "{n} images disagree); more than two SE from zero",
        "one_accuracy": "{got:.4f} is the standard error of one accuracy, sqrt(p (1 - p) / n): "
                        "it ignores that both models were scored on the same images. Use the "
                        "per-image differences d = int8 - float32",
        "unpaired": "{got:.4f} treats the two accuracies as independent samples "
                    "(sqrt(var1/n + var2/n)); they share their images, and most images are "
                    "right or wrong for both. Use the per-image differences",
        "variance": "{got:.6f} is a variance (or lacks the square root of n): the standard "
                    "error is d.std() / sqrt(len(d))",
        "swapped": "your first two answers are not per-image results of the same length "
                   "(got {a} and {b}); pass the two boolean arrays from flower_table.attrs",
        "off": "{got:.4f} is not the paired standard error ({want:.4f}); compute it from "
               "d = int8 - float32 per image: d.std() / sqrt(len(d))",
    }
    mistakes = [
        Mistake('''
f32_right = flower_table.attrs["correct"]["float32"]
i8_right = flower_table.attrs["correct"]["int8"]
p = i8_right.mean()
se = np.sqrt(p * (1 - p) / len(i8_right))
''', "one_accuracy", "the standard error of one accuracy"),
        Mistake('''
f32_right = flower_table.attrs["correct"]["float32"]
i8_right = flower_table.attrs["correct"]["int8"]
n = len(i8_right)
se = np.sqrt(i8_right.var() / n + f32_right.var() / n)
''', "unpaired", "two independent samples: an unpaired standard error"),
    ]

    def verify(self, f32_right, i8_right, se):
        a = np.asarray(f32_right)
        b = np.asarray(i8_right)
        if a.ndim != 1 or a.shape != b.shape or a.dtype.kind not in "bui":
            return self.wrong("swapped", a=getattr(a, "shape", a), b=getattr(b, "shape", b))
        a, b = a.astype(float), b.astype(float)
        n = len(a)
        d = b - a
        want = d.std() / np.sqrt(n)
        got = float(se)
        if abs(got - want) <= 0.02 * want + 1e-12 or abs(got - d.std(ddof=1) / np.sqrt(n)) \
                <= 0.02 * want + 1e-12:
            key = "passed" if abs(d.mean()) <= 2 * want else "passed_far"
            return self.passed(key, diff=100 * d.mean(), se=100 * want, disc=int(np.sum(d != 0)),
                               n=n)
        candidates = {
            "one_accuracy": [np.sqrt(p * (1 - p) / n) for p in (b.mean(), a.mean())],
            "unpaired": [np.sqrt(a.var() / n + b.var() / n),
                         np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)],
            "variance": [d.var() / n, d.var(), d.std()],
        }
        for key, values in candidates.items():
            if any(abs(got - v) <= 0.02 * v + 1e-12 for v in values):
                return self.wrong(key, got=got)
        return self.wrong("off", got=got, want=want)


# --------------------------------------------------------------------------- 6


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _soft_term(teacher, student, t, *, square=True, reverse=False, student_t=True):
    lp_t = _log_softmax(teacher / t)
    lp_s = _log_softmax(student / (t if student_t else 1.0))
    if reverse:
        kl = np.sum(np.exp(lp_s) * (lp_s - lp_t), axis=-1)
    else:
        kl = np.sum(np.exp(lp_t) * (lp_t - lp_s), axis=-1)
    return kl * (t * t if square else 1.0)


class SoftLoss(Exercise):
    """Distillation's soft term, written out."""

    number = 6
    title = "Distillation's soft loss, written out"
    answers = ("soft_loss",)
    where = "home"
    minutes = 15
    starter = '''
    # a function (teacher_logits, student_logits, T) -> one loss value per example, NumPy arrays in
    soft_loss = ____
    '''
    hint = """
    Soften both distributions with the same temperature: `p = softmax(teacher / T)`,
    `log q = log_softmax(student / T)`. The soft term is `T**2 * sum(p * (log p - log q))`
    over the classes (the KL divergence from the teacher to the student). Compute
    `log_softmax` stably: subtract each row's maximum before `exp`. `compress.Distiller`
    uses the same formula in Keras.
    """
    solution = '''
    def soft_loss(teacher_logits, student_logits, T):
        def log_softmax(z):
            z = z - z.max(axis=-1, keepdims=True)
            return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        log_p = log_softmax(teacher_logits / T)          # the teacher, softened
        log_q = log_softmax(student_logits / T)          # the student, softened the same way
        return T ** 2 * np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)
    '''
    explanation = """
    Hinton et al. (2015) match softened distributions, KL(teacher_T || student_T). Its
    gradient with respect to the student's logits scales as 1/T^2 (a 1/T from each
    softening), so the T^2 factor keeps the soft term's pull comparable to the hard
    label's when you change T. The direction matters: KL(teacher || student) asks the
    student to cover every class the teacher finds plausible. Try it: train students with
    T = 2 and 8 (`compress.Distiller(temperature=...)`) and compare the gains.
    """
    messages = {
        "passed": "right: matches T^2 KL(teacher_T || student_T) on random logits at T = 1, 4 "
                  "and 8",
        "passed_ce": "right for training: you computed the soft cross-entropy T^2 * -sum(p log "
                     "q); it differs from the KL term by the teacher's entropy, a constant for "
                     "the student, so its gradients are the same",
        "no_square": "your loss shrinks as 1/T^2 as T grows: the T^2 factor is missing. Without "
                     "it, a higher temperature silently weakens the soft term against the labels",
        "reversed": "you computed KL(student || teacher); distillation uses KL(teacher || "
                    "student): sum over classes of p_teacher * (log p_teacher - log p_student)",
        "student_t": "the student's logits must be softened by the same T as the teacher's: "
                     "log_softmax(student_logits / T)",
        "shape": "soft_loss should return one value per example (shape {want}), got {got}",
        "off": "soft_loss differs from T^2 KL(teacher_T || student_T) by up to {err:.3g} at "
               "T = {t}; check the softmax (stable: subtract the row maximum) and the sum over classes",
    }
    mistakes = [
        Mistake('''
def soft_loss(teacher_logits, student_logits, T):
    def log_softmax(z):
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    log_p = log_softmax(teacher_logits / T)
    log_q = log_softmax(student_logits / T)
    return np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)
''', "no_square", "the T^2 factor left out"),
        Mistake('''
def soft_loss(teacher_logits, student_logits, T):
    def log_softmax(z):
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    log_p = log_softmax(teacher_logits / T)
    log_q = log_softmax(student_logits / T)
    return T ** 2 * np.sum(np.exp(log_q) * (log_q - log_p), axis=-1)
''', "reversed", "the KL divergence the wrong way round"),
        Mistake('''
def soft_loss(teacher_logits, student_logits, T):
    def log_softmax(z):
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    log_p = log_softmax(teacher_logits / T)
    log_q = log_softmax(student_logits)
    return T ** 2 * np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)
''', "student_t", "the temperature applied to the teacher only"),
    ]

    def verify(self, soft_loss):
        if not callable(soft_loss):
            raise TypeError(f"soft_loss should be a function, got {type(soft_loss).__name__}")
        rng = np.random.default_rng(7)
        teacher = rng.normal(0, 4, (16, 10))
        student = rng.normal(0, 3, (16, 10))
        verdicts = []
        for t in (1.0, 4.0, 8.0):
            got = np.asarray(soft_loss(teacher, student, t), np.float64)
            if got.shape != (16,):
                return self.wrong("shape", want=(16,), got=got.shape)
            want = _soft_term(teacher, student, t)
            p = np.exp(_log_softmax(teacher / t))
            ce = want + t * t * -np.sum(p * np.log(p), axis=-1)
            if _close(got, want, rtol=1e-4, atol=1e-6):
                verdicts.append("kl")
            elif _close(got, ce, rtol=1e-4, atol=1e-6):
                verdicts.append("ce")
            elif t > 1 and _close(got, _soft_term(teacher, student, t, square=False), rtol=1e-4,
                                  atol=1e-7):
                return self.wrong("no_square")
            elif _close(got, _soft_term(teacher, student, t, reverse=True), rtol=1e-4, atol=1e-6):
                return self.wrong("reversed")
            elif t > 1 and _close(got, _soft_term(teacher, student, t, student_t=False),
                                  rtol=1e-4, atol=1e-6):
                return self.wrong("student_t")
            else:
                return self.wrong("off", err=float(np.abs(got - want).max()), t=t)
        return self.passed("passed" if set(verdicts) == {"kl"} else "passed_ce")
