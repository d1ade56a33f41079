"""Exercises of notebook 08: from PyTorch (NCHW) to LiteRT (NHWC).

They practise the lesson's subject calls without editing package source: a network option
that removes the flatten's TRANSPOSE (``TinyU2Net(head_grid=...)``), litert-torch's
channel-last wrapper for inputs and outputs, ``torch.onnx.export`` with a dynamic image
size, feeding a full-int8 NHWC file by hand, and choosing calibration images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgelab.exercises.core import Exercise, Mistake


def _shape(x) -> tuple[int, ...]:
    return tuple(int(d) for d in np.shape(x))


# --------------------------------------------------------------------------- 1


class NoFlattenTranspose(Exercise):
    """A head that pools to 1 x 1 leaves no TRANSPOSE in the converted file."""

    number = 1
    title = "A head without the flatten's TRANSPOSE"
    answers = ("gap_model", "gap_file")
    where = "class"
    minutes = 10
    starter = '''
    gap_model = ____   # a TinyU2Net like `model` whose head pools the bottom features to 1 x 1
    gap_file = lab.out / "gap_litert.tflite"
    # convert gap_model with litert-torch into gap_file, with an NHWC input (section 6(c))
    '''
    hint = """
    `TinyU2Net(..., head_grid=1)` pools the bottom feature map globally, so the classifier
    gets a `[N, C, 1, 1]` map to flatten. Convert it as in section 6(c):
    `export.to_litert(gap_model, gap_file, S.image_size)` (or the `litert_torch.convert(...)`
    call written out there). Then count the TRANSPOSE ops with `inspect_tflite.read(gap_file)`.
    Weights do not matter for the count: the model need not be trained.
    """
    solution = '''
    gap_model = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, head_grid=1).eval()
    gap_file = lab.out / "gap_litert.tflite"
    export.to_litert(gap_model, gap_file, S.image_size)
    '''
    explanation = """
    Flattening `[N, C, H, W]` lays the values out channel by channel, and the linear
    layer's weights were trained for that order; an NHWC graph holds `[N, H, W, C]`, so a
    correct conversion transposes back before the reshape. With H = W = 1 the two orders
    are the same values in the same order: nothing to transpose, and the converter leaves
    no TRANSPOSE at all. That is why many mobile networks end in global average pooling.
    (The other way to lose it, for a 4 x 4 map, is to permute the rows of the linear
    layer's weights once, at conversion time.)
    """
    messages = {
        "passed": "right: {ops} ops and no TRANSPOSE; input {inp} (NHWC), the classifier reads "
                  "a {features}-value vector",
        "not_a_model": "gap_model should be a TinyU2Net, got {kind}",
        "grid": "gap_model's head pools to {grid} x {grid}; the exercise asks for a 1 x 1 map "
                "(head_grid=1)",
        "no_file": "{file} does not exist yet: convert gap_model into it (section 6(c))",
        "four_by_four": "{file} has {n} TRANSPOSE ({chain}): it was converted from a model whose "
                        "head flattens a 4 x 4 map, like the lesson's `model`. Convert gap_model",
        "nchw_input": "{file} takes {inp}: NCHW. Wrap the model with to_channel_last_io "
                      "(export.to_litert does) so that the input is NHWC",
        "transposes": "{file} still has {n} TRANSPOSE: {chain}",
    }
    mistakes = [
        Mistake('''
gap_model = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, head_grid=1).eval()
gap_file = lab.out / "gap_litert.tflite"
export.to_litert(model, gap_file, S.image_size)
''', "four_by_four", "the lesson's `model` converted instead of the new one"),
    ]

    def verify(self, gap_model, gap_file):
        from edgelab.edge import inspect

        if not hasattr(gap_model, "head_grid"):
            return self.wrong("not_a_model", kind=type(gap_model).__name__)
        if gap_model.head_grid != 1:
            return self.wrong("grid", grid=gap_model.head_grid)
        path = Path(gap_file)
        if not path.is_file():
            return self.wrong("no_file", file=path.name)
        info = inspect.read(path)
        inp = list(info.tensor(info.inputs[0]).shape)
        if len(inp) == 4 and inp[1] == 3 and inp[3] != 3:
            return self.wrong("nchw_input", file=path.name, inp=inp)
        transposes = [l for l in info.layers if l.op == "TRANSPOSE"]
        if transposes:
            consumers = info.consumers()
            chain = []
            for layer in transposes:
                nxt = [info.layers[i].op for i in consumers.get(layer.outputs[0], [])]
                chain.append(f"TRANSPOSE -> {'/'.join(nxt) or 'output'}")
            leads_to_head = any("RESHAPE" in c for c in chain)
            key = "four_by_four" if leads_to_head else "transposes"
            return self.wrong(key, file=path.name, n=len(transposes), chain="; ".join(chain))
        fc = next((l for l in info.layers if l.op == "FULLY_CONNECTED"), None)
        features = info.tensor(fc.inputs[0]).shape[-1] if fc is not None else "?"
        return self.passed(ops=len(info.layers), inp=inp, features=features)


# --------------------------------------------------------------------------- 2


class ChannelLastOutputs(Exercise):
    """litert-torch's wrapper for NHWC inputs and outputs, checked in PyTorch."""

    number = 2
    title = "NHWC in and out with to_channel_last_io"
    answers = ("wrapped", "example")
    where = "class"
    minutes = 10
    starter = '''
    two_maps = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, mask_channels=2).eval()
    wrapped = ____   # two_maps wrapped so that it takes NHWC images and returns its mask NHWC
    example = ____   # the example input litert_torch.convert would trace `wrapped` with
    '''
    hint = """
    `litert_torch.to_channel_last_io(module, args=[...], outputs=[...])` adds a permute
    after each input and before each output whose index you list: the image is input 0,
    the mask is output 0. The wrapped model then takes `[1, S, S, 3]`, so the example
    input has that shape too: `torch.zeros(1, S.image_size, S.image_size, 3)`.
    """
    solution = '''
    two_maps = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, mask_channels=2).eval()
    wrapped = litert_torch.to_channel_last_io(two_maps, args=[0], outputs=[0]).eval()
    example = torch.zeros(1, S.image_size, S.image_size, 3)
    '''
    explanation = """
    With one mask channel, NCHW `[1, 1, S, S]` and NHWC `[1, S, S, 1]` hold the same bytes,
    which is why the lesson could leave the mask alone. With two channels they differ, and
    an app that reads the mask as an image wants NHWC. The wrapper only adds permutes at the
    edges; the converter folds them into the NHWC layout it chooses inside, so the file
    gains no TRANSPOSE for them. Convert it to see: `litert_torch.convert(wrapped,
    (example,)).export(...)`, then `inspect_tflite.read(...).io_details()`.
    """
    messages = {
        "passed": "right: NHWC in {inp}, mask out {mask} (NHWC), logits {logits}",
        "example_nchw": "example has shape {got}: that is NCHW. The wrapped model takes NHWC "
                        "images, [1, {s}, {s}, 3]",
        "example_shape": "example has shape {got}; the wrapped model takes one NHWC image, "
                         "[1, H, W, 3]",
        "mask_nchw": "the wrapped model returns the mask as {mask}: still NCHW. List the mask's "
                     "output index in to_channel_last_io(..., outputs=[0])",
        "not_wrapped": "calling wrapped on an NHWC image failed ({error}): is it "
                       "to_channel_last_io(two_maps, args=[0], ...)?",
        "one_channel": "the mask has {c} channel(s); this exercise needs mask_channels=2 to "
                       "tell NCHW from NHWC",
    }
    mistakes = [
        Mistake('''
two_maps = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, mask_channels=2).eval()
wrapped = litert_torch.to_channel_last_io(two_maps, args=[0]).eval()
example = torch.zeros(1, S.image_size, S.image_size, 3)
''', "mask_nchw", "only the input wrapped, as in the lesson"),
        Mistake('''
two_maps = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, mask_channels=2).eval()
wrapped = litert_torch.to_channel_last_io(two_maps, args=[0], outputs=[0]).eval()
example = torch.zeros(1, 3, S.image_size, S.image_size)
''', "example_nchw", "the example input left in NCHW"),
    ]

    def verify(self, wrapped, example):
        import torch

        shape = _shape(example)
        if len(shape) != 4 or shape[0] != 1:
            return self.wrong("example_shape", got=list(shape))
        if shape[1] == 3 and shape[3] != 3:
            return self.wrong("example_nchw", got=list(shape), s=shape[2])
        if shape[3] != 3:
            return self.wrong("example_shape", got=list(shape))
        x = torch.rand(*shape)
        try:
            with torch.no_grad():
                mask, logits = wrapped(x)
        except Exception as err:  # noqa: BLE001 - a learner's object, named in the message
            return self.wrong("not_wrapped", error=f"{type(err).__name__}: {str(err)[:80]}")
        mask_shape = list(mask.shape)
        if mask_shape[1] == shape[1] and mask_shape[2] == shape[2]:
            if mask_shape[3] < 2:
                return self.wrong("one_channel", c=mask_shape[3])
            return self.passed(inp=list(shape), mask=mask_shape, logits=list(logits.shape))
        if mask_shape[1] < 2:
            return self.wrong("one_channel", c=mask_shape[1])
        return self.wrong("mask_nchw", mask=mask_shape)


# --------------------------------------------------------------------------- 3


class DynamicImageSize(Exercise):
    """torch.onnx.export with a dynamic height and width."""

    number = 3
    title = "Export with a dynamic image size"
    answers = ("onnx_file",)
    where = "class"
    minutes = 10
    starter = '''
    any_size = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, head_grid=1).eval()
    # export any_size with torch.onnx.export (section 5) so that batch, height and width are dynamic
    onnx_file = ____   # the path of the file you wrote
    '''
    hint = """
    `dynamic_axes` names, per input and output, the axes that may change:
    `{"image": {0: "N", 2: "H", 3: "W"}, "mask": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}}`,
    with `input_names=["image"]` and `output_names=["mask", "logits"]` so that the names
    match. Export `any_size`: its head pools globally, so it works at any size; the lesson's
    `model` pools with a fixed 3 x 3 window and only fits its training size.
    """
    solution = '''
    any_size = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, head_grid=1).eval()
    onnx_file = lab.out / "any_size.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the TorchScript exporter's deprecation warning
        torch.onnx.export(any_size, (torch.zeros(1, 3, S.image_size, S.image_size),), str(onnx_file),
                          input_names=["image"], output_names=["mask", "logits"],
                          opset_version=17, dynamo=False,   # the TorchScript exporter, as in section 5
                          dynamic_axes={"image": {0: "N", 2: "H", 3: "W"},
                                        "mask": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}})
    '''
    explanation = """
    A tracing exporter records one run at the example's size; `dynamic_axes` tells it which
    axes to leave symbolic. Whether the graph then *works* at another size depends on the
    model: a pooling window computed from the training size (the lesson's 4 x 4 head) bakes
    that size in, global pooling does not. A converter to LiteRT needs a fixed size again:
    `edgelab convert any_size.onnx out.tflite` stops with one line asking for
    `--input-shape image:1,3,H,W`, and converts once you give it; each size is one file.
    """
    messages = {
        "passed": "right: input {inp}, and onnxruntime runs it at {a} and {b} pixels (mask "
                  "{ma} and {mb})",
        "no_file": "{file} does not exist: write it with torch.onnx.export first",
        "fixed": "the file's input is {inp}: height and width are fixed. Add them to "
                 "dynamic_axes for the input and the mask: {{2: 'H', 3: 'W'}}",
        "fixed_head": "the file declares a dynamic size ({inp}), but onnxruntime fails at {b} "
                      "pixels: {error}. Its head pools with a fixed window (the lesson's "
                      "`model`); export any_size, whose head pools globally",
        "not_onnx": "{file} is not a readable ONNX model: {error}",
    }
    mistakes = [
        Mistake('''
any_size = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, head_grid=1).eval()
onnx_file = export.to_onnx(any_size, lab.out / "any_size.onnx", S.image_size)
''', "fixed", "the lesson's export copied: only the batch is dynamic"),
        Mistake('''
any_size = TinyU2Net(S.image_size, num_classes=len(CLASS_NAMES), width=S.width, head_grid=1).eval()
onnx_file = lab.out / "any_size.onnx"
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch.onnx.export(model, (torch.zeros(1, 3, S.image_size, S.image_size),), str(onnx_file),
                      input_names=["image"], output_names=["mask", "logits"],
                      opset_version=17, dynamo=False,
                      dynamic_axes={"image": {0: "N", 2: "H", 3: "W"},
                                    "mask": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}})
''', "fixed_head", "the lesson's `model` exported: its head only fits one size"),
    ]

    def verify(self, onnx_file):
        import onnx
        import onnxruntime as ort

        path = Path(onnx_file)
        if not path.is_file():
            return self.wrong("no_file", file=path.name)
        try:
            model = onnx.load(str(path))
        except Exception as err:  # noqa: BLE001
            return self.wrong("not_onnx", file=path.name, error=type(err).__name__)
        dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        inp = "[" + ", ".join(map(str, dims)) + "]"
        if len(dims) != 4 or isinstance(dims[2], int) or isinstance(dims[3], int):
            return self.wrong("fixed", inp=inp)
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        a, b = 32, 64
        masks = []
        for size in (a, b):
            x = np.random.default_rng(size).random((1, 3, size, size), dtype=np.float32)
            try:
                masks.append(list(sess.run(None, {name: x})[0].shape))
            except Exception as err:  # noqa: BLE001 - onnxruntime's own error, one line
                text = str(err).strip().splitlines()[0]
                return self.wrong("fixed_head", inp=inp, b=size, error=text[-90:].strip())
        return self.passed(inp=inp, a=a, b=b, ma=masks[0], mb=masks[1])


# --------------------------------------------------------------------------- 4


class FeedTheInt8File(Exercise):
    """Quantize an NCHW float image for an NHWC int8 input, by hand."""

    number = 4
    title = "Feed the int8 file yourself"
    answers = ("int8_file", "to_int8_input")
    where = "class"
    minutes = 10
    starter = '''
    int8_file = int8_path                       # section 8's full-int8 file
    interpreter = Interpreter(model_path=str(int8_file))
    inp = interpreter.get_input_details()[0]    # its shape, dtype and quantization (scale, zero point)
    print(inp["shape"], inp["dtype"], inp["quantization"])
    to_int8_input = ____   # a function: float32 NCHW images [N, 3, S, S] in [0, 1] -> this input's array
    '''
    hint = """
    Two steps, in either order: the layout (NCHW `[N, 3, S, S]` to NHWC `[N, S, S, 3]`:
    `images.transpose(0, 2, 3, 1)`) and the number format: `q = round(x / scale +
    zero_point)`, clipped to [-128, 127] and stored as int8. With scale 1/255 and zero
    point -128, 0.0 becomes -128 and 1.0 becomes 127.
    """
    solution = '''
    int8_file = int8_path
    interpreter = Interpreter(model_path=str(int8_file))
    inp = interpreter.get_input_details()[0]
    scale, zero_point = inp["quantization"]

    def to_int8_input(images):
        nhwc = np.asarray(images, np.float32).transpose(0, 2, 3, 1)
        return np.clip(np.round(nhwc / scale + zero_point), -128, 127).astype(np.int8)
    '''
    explanation = """
    Two conversions sit between a PyTorch-style batch and this file: the axes (onnx2tf made
    the whole graph NHWC, so the file wants `[N, H, W, C]`) and the numbers (int8 with the
    input's own scale and zero point: `q = round(x / scale) + zero_point`). Rounding, not
    truncating, keeps every value within half a step; clipping keeps 1.0 from wrapping past
    127. Then `interpreter.set_tensor(inp["index"], to_int8_input(images[:1]))` and
    `invoke()` run it, and the outputs come back with their own scale and zero point.
    """
    messages = {
        "passed": "right: {shape} int8, the same integers as the reference on {n} test images "
                  "(0.0 -> {lo}, 1.0 -> {hi})",
        "nchw": "your array is {got}: NCHW. The file's input is NHWC {want}: transpose the "
                "axes (0, 2, 3, 1)",
        "dtype": "your array is {dtype}; the file's input is int8: round, clip to [-128, 127] "
                 "and .astype(np.int8)",
        "zero_point_sign": "your integers are off by twice the zero point ({zp}): quantizing "
                           "adds it, q = round(x / scale) + zero_point",
        "wrapped": "values near 1.0 came out negative: x / scale + zero_point reaches 127.5 "
                   "and more, which wraps around in int8 unless you clip to [-128, 127] first",
        "truncated": "{count} values are one step off: astype(np.int8) truncates towards zero "
                     "instead of rounding to the nearest level; np.round first",
        "scale": "your integers do not use the input's scale ({scale:.6g}): q = round(x / scale "
                 "+ zero_point)",
        "off": "your integers differ from round(x / scale + zero_point) in NHWC by up to {err} "
               "steps",
        "no_file": "int8_file should be the full-int8 .tflite of section 8, got {got}",
    }
    mistakes = [
        Mistake('''
int8_file = int8_path
interpreter = Interpreter(model_path=str(int8_file))
inp = interpreter.get_input_details()[0]
scale, zero_point = inp["quantization"]

def to_int8_input(images):
    return np.clip(np.round(images / scale + zero_point), -128, 127).astype(np.int8)
''', "nchw", "quantized right, but left in NCHW"),
        Mistake('''
int8_file = int8_path
interpreter = Interpreter(model_path=str(int8_file))
inp = interpreter.get_input_details()[0]
scale, zero_point = inp["quantization"]

def to_int8_input(images):
    nhwc = images.transpose(0, 2, 3, 1)
    return np.clip(np.round(nhwc / scale - zero_point), -128, 127).astype(np.int8)
''', "zero_point_sign", "the zero point subtracted instead of added"),
        Mistake('''
int8_file = int8_path
interpreter = Interpreter(model_path=str(int8_file))
inp = interpreter.get_input_details()[0]
scale, zero_point = inp["quantization"]

def to_int8_input(images):
    nhwc = images.transpose(0, 2, 3, 1)
    return (nhwc / scale + zero_point).astype(np.int8)
''', "truncated", "no rounding: astype truncates"),
    ]

    def verify(self, int8_file, to_int8_input):
        from edgelab.edge.evaluate import load_interpreter

        path = Path(str(int8_file))
        if not path.is_file() or path.suffix != ".tflite":
            return self.wrong("no_file", got=str(int8_file)[:80])
        detail = load_interpreter(path, 1).get_input_details()[0]
        scale, zp = detail["quantization"]
        want_shape = [int(d) for d in detail["shape"]]
        s = want_shape[1]
        rng = np.random.default_rng(3)
        images = rng.random((4, 3, s, s), dtype=np.float32)
        images[0, :, 0, 0] = (0.0, 1.0, 0.5)
        images[0, :, 0, 1] = 1.0
        want = np.clip(np.round(images.transpose(0, 2, 3, 1) / scale + zp), -128, 127)
        got = np.asarray(to_int8_input(images))
        if got.shape == images.shape and got.shape != want.shape:
            return self.wrong("nchw", got=list(got.shape), want=[len(images), *want_shape[1:]])
        if got.shape != want.shape:
            return self.wrong("nchw", got=list(got.shape), want=[len(images), *want_shape[1:]])
        if got.dtype != np.int8:
            return self.wrong("dtype", dtype=got.dtype)
        diff = got.astype(np.int32) - want.astype(np.int32)
        if not np.any(diff):
            return self.passed(shape=list(got.shape), n=len(images),
                               lo=int(np.clip(round(zp), -128, 127)),
                               hi=int(np.clip(round(1 / scale + zp), -128, 127)))
        nhwc = images.transpose(0, 2, 3, 1)
        if np.array_equal(got, np.clip(np.round(nhwc / scale - zp), -128, 127)):
            return self.wrong("zero_point_sign", zp=zp)
        raw = nhwc / scale + zp
        if np.any((raw > 127.4) & (got < 0)):
            return self.wrong("wrapped")
        if np.array_equal(got, np.trunc(np.clip(raw, -128, 127))):
            return self.wrong("truncated", count=int(np.sum(diff != 0)))
        if np.abs(diff).max() > 3:
            return self.wrong("scale", scale=scale)
        return self.wrong("off", err=int(np.abs(diff).max()))


# --------------------------------------------------------------------------- 5


class CalibrationImages(Exercise):
    """The representative dataset: real training photos, as the model takes them."""

    number = 5
    title = "Choose the calibration images"
    answers = ("calibration_photos",)
    where = "class"
    minutes = 5
    starter = '''
    calibration_photos = ____   # 100 photos to calibrate the int8 conversion on, as the ONNX model takes its input
    '''
    hint = """
    Calibration records the range of every activation on typical inputs, so it needs real
    photos, prepared exactly as the model's input: float32, NCHW `[N, 3, S, S]`, values in
    [0, 1], like `train.images`. Take them from the training split (a random subset: the
    first photos are sorted by class); the test photos are kept for the one final
    measurement.
    """
    solution = '''
    picks = np.random.default_rng(0).permutation(len(train))[:100]   # a random 100: all classes
    calibration_photos = train.images[picks]
    '''
    explanation = """
    The converter runs these images through the float model and sets every activation's
    scale and zero point from the ranges it sees. Images in another layout or value range
    give ranges the deployed model never meets (and onnx_convert.convert refuses a shape
    that does not fit the input), and calibrating on the test photos lets the test set
    shape the model it is supposed to judge. Then convert with
    `onnx_convert.convert(onnx_path, path, int8=True, calibration=calibration_photos)` and
    compare with section 8's file; try uniform noise as calibration too and see what the
    paired comparison says.
    """
    messages = {
        "passed": "right: {n} training photos, float32 NCHW {shape}, values {lo:.2f} to {hi:.2f}",
        "nhwc": "calibration_photos has shape {shape}: NHWC. The ONNX model takes NCHW [N, 3, H, W] "
                "(onnx_convert moves them to NHWC for onnx2tf itself)",
        "dtype": "calibration_photos is {dtype} with values up to {hi:.0f}; the model takes float32 "
                 "pixels in [0, 1], like train.images",
        "test": "{count} of your calibration photos are test photos: the test split is kept "
                "for the final measurement. Take them from train.images",
        "shape": "calibration_photos has shape {shape}; give a batch of NCHW images [N, 3, S, S]",
        "few": "{n} photos are too few to see the activations' ranges; take about 100",
        "sorted": "your photos cover only {classes} of the 17 classes: the first photos of a "
                  "split are sorted by class. Take a random subset",
    }
    mistakes = [
        Mistake('''
calibration_photos = test.images[:100]
''', "test", "the test photos, also used to judge the model"),
        Mistake('''
calibration_photos = data.to_nhwc(train.images[:100])
''', "nhwc", "NHWC images, as the converted file takes them"),
        Mistake('''
calibration_photos = (train.images[:100] * 255).astype(np.uint8)
''', "dtype", "uint8 pixels 0..255"),
    ]

    def verify(self, calibration_photos):
        from edgelab.pytorch import data

        x = np.asarray(calibration_photos)
        if x.ndim != 4:
            return self.wrong("shape", shape=list(x.shape))
        if x.shape[1] != 3 and x.shape[3] == 3:
            return self.wrong("nhwc", shape=list(x.shape))
        if x.shape[1] != 3 or x.shape[2] != x.shape[3]:
            return self.wrong("shape", shape=list(x.shape))
        if x.dtype != np.float32 or x.max() > 1.0 + 1e-6 or x.min() < -1e-6:
            return self.wrong("dtype", dtype=x.dtype, hi=float(x.max()))
        if len(x) < 20:
            return self.wrong("few", n=len(x))
        test = data.load("test", x.shape[2], progress=False)
        seen = {img.tobytes() for img in test.images}
        count = sum(img.tobytes() in seen for img in np.ascontiguousarray(x))
        if count:
            return self.wrong("test", count=count)
        train = data.load("train", x.shape[2], progress=False)
        index = {img.tobytes(): label for img, label in zip(train.images, train.labels)}
        labels = {index[img.tobytes()] for img in np.ascontiguousarray(x) if img.tobytes() in index}
        if labels and len(labels) < 10:
            return self.wrong("sorted", classes=len(labels))
        return self.passed(n=len(x), shape=list(x.shape), lo=float(x.min()), hi=float(x.max()))
