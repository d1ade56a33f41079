"""edgelab: the small shared package the edgelab notebooks import.

The package reads as the curriculum's table of contents: one subpackage per lesson, and
the machinery every lesson shares next to them.

    core/       profiles, paths, atomic writes, seeding, results (imports no TensorFlow)
    run/        ``edgelab run``, the notebook convention, the command line
    datasets/   the verified data layer (MNIST, Flower17, weights, sample images)
    devices.py  the accelerator and the distribution strategy
    plots.py    image grids and training curves
    notebook.py ``edgelab.notebook.start``, the first line of every notebook
    mnist/      01 - the CNN and the XLA op check
    xception/   02 - Xception in Sonnet 2, its training loop, the embedding projector
    gradcam/    03 - Grad-CAM and Grad-CAM++, overlays, sanity checks
    chainer/    04 - Chainer on NumPy 2, lazy datasets, multi-head updater, stochastic units
    hub/        05 - TF Hub handles and offline modules, transfer learning
    lineart/    06 - line-art extraction, the batch tool, synthetic test art
    edge/       07 - conversion, quantization, evaluation, reading .tflite files;
                ONNX (NCHW) -> NHWC TFLite (``edgelab convert``)
    pytorch/    08 - a PyTorch model to LiteRT: ONNX, naive port, litert-torch
    exercises/  every notebook's exercises: check, hint, solution, progress (above the lessons)
    workshop/   for teachers: ``edgelab doctor``, ``prepare``, ``teach`` (above the lessons)

Dependencies point one way: lessons use ``core``, ``datasets``, ``devices`` and ``plots``;
``core`` uses nothing else of edgelab; a lesson that needs another lesson's trained model
gets it through that lesson's documented ``load_or_train`` function, never its internals.
Importing ``edgelab`` is cheap: TensorFlow, Sonnet and Chainer are imported only by the
modules that use them.
"""

from edgelab.core.project import VERSION as __version__

from edgelab import exercises, notebook  # noqa: E402
from edgelab.core import paths, profiles  # noqa: E402
from edgelab.core.profiles import sizes  # noqa: E402
from edgelab.core.results import record  # noqa: E402
from edgelab.core.seeding import seed_everything  # noqa: E402

__all__ = ["__version__", "exercises", "notebook", "paths", "profiles", "sizes", "record", "seed_everything"]
