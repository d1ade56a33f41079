"""The first call in every notebook: profile banner, quiet logs, seeds, output folder.

``start`` is what a lesson calls right after the setup cell::

    import edgelab
    lab = edgelab.notebook.start("01_mnist")        # imports and seeds TensorFlow too

It keeps TensorFlow's C++ and Python log chatter out of cell outputs (that would make
notebooks noisy for people and flaky under nbval), seeds every generator, and tells the
reader which profile is running, why (``EDGELAB_PROFILE``, or the machine: ``full`` with a
GPU or TPU, ``quick`` without; see :func:`edgelab.core.profiles.choice`), how to choose
the other one, and where outputs go.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from edgelab.core.project import VERSION
from edgelab.core import paths, profiles, results
from edgelab.core.quiet import native_silenced
from edgelab.core.seeding import DEFAULT_SEED, seed_everything

# Modules whose Python warnings are about their own internals, not the lesson.
_NOISY = ("tensorflow", "keras", "tf_keras", "tensorflow_hub", "sonnet", "absl", "chainer",
          "google.protobuf", "h5py", "tf2onnx", "tflite", "ai_edge_litert")


@dataclass(frozen=True)
class Lab:
    """What ``start`` set up: the lesson name, profile, seed and output folder."""

    lesson: str
    profile: str
    seed: int
    out: Path

    def sizes(self, lesson: str):
        return profiles.sizes(lesson, self.profile)


def quiet_logs() -> None:
    """Silence TensorFlow/absl log noise and library-internal warnings."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede `import tensorflow`
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for module in _NOISY:
        warnings.filterwarnings("ignore", module=module)
    warnings.filterwarnings("ignore", message=".*pkg_resources.*")
    logging.getLogger("absl").setLevel(logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        tf.get_logger().setLevel(logging.ERROR)
        tf.autograph.set_verbosity(0)


def start(lesson: str, *, tensorflow: bool = True, seed: int = DEFAULT_SEED,
          banner: bool = True) -> Lab:
    """Prepare a notebook run and print a one-line banner.

    ``tensorflow=False`` for lessons that do not use it (Chainer, OpenCV), so they do not
    pay its import time.
    """
    quiet_logs()
    _scripts_on_path()
    if tensorflow:
        with native_silenced(fds=(2,)):
            # TensorFlow's C++ runtime prints start-up lines (CUDA probing on a CPU machine,
            # absl's "before InitializeLog" notice) straight to file descriptor 2, which
            # Jupyter shows under the cell. Importing and initialising the devices here, with
            # that descriptor pointed at /dev/null, keeps them out of every later cell.
            import tensorflow as tf

            tf.config.list_physical_devices()
            tf.constant(0.0) + 1.0
        quiet_logs()
    os.environ.setdefault(results.NOTEBOOK_VAR, lesson)
    seed_everything(seed, tensorflow=tensorflow)
    _matplotlib_defaults()
    chosen = profiles.choice()
    lab = Lab(lesson=lesson, profile=chosen.profile, seed=seed, out=paths.lesson_dir(lesson))
    if banner:
        note = "the real lesson" if lab.profile == "full" else "small sizes for CI and a first look"
        other = "quick" if lab.profile == "full" else "full"
        print(f"edgelab {VERSION} | profile: {lab.profile} ({note}) | seed {seed}\n"
              f"why {lab.profile}: {chosen.reason}\n"
              f"for the {other} profile: run %env {profiles.ENV_VAR}={other} and then this "
              f"cell again, or start Jupyter with make lab PROFILE={other}\n"
              f"outputs: {paths.shown(lab.out)}")
    return lab


def _scripts_on_path() -> None:
    """Put the folder of this kernel's Python first on ``PATH`` when edgelab's command is there.

    A cell's ``!edgelab ...`` runs in a shell that searches ``PATH``; a kernel started from a
    virtual environment without activating it (``.venv/bin/jupyter lab``, ``edgelab run``,
    nbval) has the environment's ``bin`` folder missing from it, and the shell would find no
    ``edgelab`` (or another installation's). Colab installs the command on ``PATH`` already.
    """
    scripts = os.path.dirname(sys.executable)
    found = any(os.path.isfile(os.path.join(scripts, name)) for name in ("edgelab", "edgelab.exe"))
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if found and scripts not in entries:
        os.environ["PATH"] = os.pathsep.join([scripts, *[e for e in entries if e]])


def _matplotlib_defaults() -> None:
    try:
        import matplotlib as mpl
    except ImportError:
        return
    mpl.rcParams.update({"figure.dpi": 100, "figure.figsize": (8, 4.5), "axes.grid": False,
                         "image.cmap": "gray", "savefig.bbox": "tight"})
