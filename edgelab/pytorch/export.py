"""PyTorch -> ONNX (the reference) and PyTorch -> LiteRT directly with litert-torch.

* :func:`to_onnx`: ``torch.onnx.export`` with the TorchScript-based exporter
  (``dynamo=False``, opset 17): one self-contained ``.onnx`` file with named inputs and
  outputs and a dynamic batch. The newer dynamo exporter needs ``onnxscript`` and writes the
  weights to a separate ``.onnx.data`` file by default; the older one is what most
  converters were tested with. PyTorch marks it deprecated with a warning, which is kept
  out of the notebook.
* :func:`to_litert`: ``litert_torch.convert`` traces the model with ``torch.export`` and
  lowers it to a .tflite without ONNX or TensorFlow in between. Wrapped first in
  ``litert_torch.to_channel_last_io``, the file takes NHWC images (and, for the outputs
  named, gives NHWC maps): the wrapper only adds a permute at the edges, which the
  converter folds into the layout it chooses inside.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path
from typing import Iterator

from edgelab.core.quiet import native_silenced


@contextlib.contextmanager
def native_output_silenced() -> Iterator[None]:
    """File descriptors 1 and 2 and Python's streams to /dev/null (the converters' C++ and
    progress prints), warnings and library loggers quiet, for the duration; litert-torch's
    progress display off (``LITERT_TORCH_SHOW_PROGRESS=n``, left set)."""
    loggers = [logging.getLogger(n) for n in ("", "torchao", "torch", "litert_torch", "absl")]
    levels = [lg.level for lg in loggers]
    # litert-torch draws its progress with `rich`, which in a notebook goes to display
    # outputs rather than to stdout; its own switch turns that off.
    os.environ["LITERT_TORCH_SHOW_PROGRESS"] = "n"
    try:
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)
        sink = io.StringIO()
        with native_silenced(), warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def to_onnx(model, path: str | os.PathLike, image_size: int, *,
            input_name: str = "image", output_names=("mask", "logits"), opset: int = 17) -> Path:
    """Write ``model`` (eval mode) as ONNX with a dynamic batch, atomically."""
    import torch

    from edgelab.core.atomic import atomic_path

    model.eval()
    example = torch.zeros(1, 3, image_size, image_size)
    path = Path(path)
    with atomic_path(path) as part, native_output_silenced():
        torch.onnx.export(model, (example,), str(part), input_names=[input_name],
                          output_names=list(output_names), opset_version=opset, dynamo=False,
                          dynamic_axes={input_name: {0: "N"}, **{o: {0: "N"} for o in output_names}})
    return path


def to_litert(model, path: str | os.PathLike, image_size: int, *, channel_last: bool = True,
              outputs=()) -> Path:
    """Convert ``model`` straight to a .tflite with litert-torch, atomically; with
    ``channel_last`` the input is NHWC ``[1, S, S, 3]`` (``to_channel_last_io``), and so are
    the outputs whose indices ``outputs`` names (e.g. ``(0,)`` for the mask)."""
    import torch

    from edgelab.core.atomic import atomic_path

    model.eval()
    with native_output_silenced():
        import litert_torch

        if channel_last:
            wrapped = litert_torch.to_channel_last_io(model, args=[0],
                                                      outputs=list(outputs)).eval()
            example = torch.zeros(1, image_size, image_size, 3)
        else:
            if outputs:
                raise ValueError("outputs= needs channel_last=True (to_channel_last_io)")
            wrapped, example = model, torch.zeros(1, 3, image_size, image_size)
        edge_model = litert_torch.convert(wrapped, (example,))
    path = Path(path)
    with atomic_path(path) as part, native_output_silenced():
        edge_model.export(str(part))
    return path
