"""What each lesson needs to run: data, packages, engines, earlier lessons' models, builds.

``edgelab doctor`` checks these needs on a participant's machine, ``edgelab prepare`` meets
them ahead of time, and the teacher's notes list them under "Before the day". They are
read from the notebooks and the package code of each lesson (which data-layer functions
and loaders its cells reach) and written down here once; ``tests/test_workshop.py`` checks
them against the registry, the loaders' own constants and the notebooks' calls.

How much each need weighs (megabytes, minutes, peak memory) is never written here: sizes
come from the data registry, times and memory from recorded runs.

Nothing here imports TensorFlow: the ``make`` functions import their lesson when called.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from edgelab.core import paths

# import name -> (distribution names it may come from, what people call it)
PACKAGES: dict[str, tuple[tuple[str, ...], str]] = {
    "tensorflow": (("tensorflow", "tensorflow-cpu", "tensorflow-tpu"), "TensorFlow"),
    "keras": (("keras",), "Keras"),
    "numpy": (("numpy",), "NumPy"),
    "jax": (("jax",), "JAX"),
    "sonnet": (("dm-sonnet",), "Sonnet"),
    "chainer": (("chainer",), "Chainer"),
    "tensorflow_hub": (("tensorflow-hub",), "TensorFlow Hub"),
    "tf_keras": (("tf-keras",), "tf_keras (Keras 2)"),
    "cv2": (("opencv-python-headless", "opencv-python", "opencv-contrib-python",
             "opencv-contrib-python-headless"), "OpenCV"),
    "ai_edge_litert": (("ai-edge-litert",), "LiteRT"),
    "tflite": (("tflite",), "tflite (flatbuffer reader)"),
    "tf2onnx": (("tf2onnx",), "tf2onnx"),
    "onnx": (("onnx",), "ONNX"),
    "onnxruntime": (("onnxruntime", "onnxruntime-gpu"), "ONNX Runtime"),
    "torch": (("torch",), "PyTorch (torch extra)"),
    "onnx2tf": (("onnx2tf",), "onnx2tf (torch extra)"),
    "litert_torch": (("litert-torch",), "litert-torch (torch extra)"),
}
# Packages of the torch extra: `make setup` installs them; elsewhere tools/install.sh does.
TORCH_EXTRA = ("torch", "onnx2tf", "litert_torch")
TORCH_EXTRA_FIX = ("install the torch extra: bash tools/install.sh --extras torch (in the "
                   "checkout, after make setup); on Colab use a runtime with PyTorch")


@dataclass(frozen=True)
class Handover:
    """A model one lesson saves for a later one."""

    producer: str                  # the lesson that trains and saves it, e.g. "02"
    what: str                      # e.g. "the Xception notebook 02 trains"
    files: tuple[str, ...]         # names under the outputs' models folder; any one counts
    without: str                   # what the later lesson does when none is there
    make: Callable[[], str]        # what the later lesson calls; returns where it came from

    def present(self) -> str | None:
        """The first of ``files`` that exists in this profile's outputs folder, or None
        (looked up without creating any folder)."""
        import os

        from edgelab.core import profiles

        value = os.environ.get(paths.OUT_VAR)
        outputs = Path(value).expanduser() if value else \
            paths.home() / "outputs" / profiles.current()
        for name in self.files:
            if (outputs / "models" / name).exists():
                return name
        return None


@dataclass(frozen=True)
class Build:
    """Something a lesson builds on first use (a TF Hub module) that can be built before."""

    what: str
    done: Callable[[], bool]
    make: Callable[[], str]


@dataclass(frozen=True)
class Lesson:
    number: str                                   # "05"
    stem: str                                     # "05_mobilenet_tfhub_transfer"
    datasets: tuple[str, ...]                     # registry names (edgelab.datasets)
    packages: tuple[str, ...]                     # import names (keys of PACKAGES)
    engines: tuple[str, ...]                      # which frameworks' devices matter
    optional_packages: tuple[str, ...] = ()       # missing: a warning, not a failure
    one_of: tuple[str, ...] = ()                  # at least one must be there (engines)
    handovers: tuple[Handover, ...] = ()
    builds: tuple[Build, ...] = ()
    notes: tuple[str, ...] = field(default=())    # facts a teacher should know

    @property
    def notebook(self) -> Path | None:
        """The notebook file in the checkout (None when edgelab is installed without one)."""
        root = paths.project_root()
        if root is None:
            return None
        found = sorted((root / "notebooks").glob(f"{self.number}_*.ipynb"))
        return found[0] if found else None

    @property
    def title(self) -> str:
        """The notebook's ``# title`` without its number, or the stem."""
        nb = self.notebook
        if nb is not None:
            import json

            try:
                cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
                head = "".join(cells[0]["source"]).splitlines()[0]
                return re.sub(r"^#\s*\d+\s*[·.:-]?\s*", "", head).strip()
            except (OSError, ValueError, KeyError, IndexError):
                pass
        return self.stem


# --------------------------------------------------------------------------- what lessons call
# Each function makes exactly the call the later lesson's notebook makes, so the model it
# leaves behind is the one the lesson then loads instead of training it in class.

def _xception_for_03() -> str:
    from edgelab import sizes, xception

    _, source = xception.load_or_train(epochs=sizes("gradcam").xception_fallback_epochs,
                                       progress=True)
    return source


def _flowers_for_03() -> str:
    from edgelab import sizes
    from edgelab.hub import flowers_classifier

    S = sizes("gradcam")
    _, source = flowers_classifier.load_or_train(S.flower_image_size, epochs=S.flower_epochs)
    return source


def _mnist_for_07() -> str:
    from edgelab.mnist import load_or_train

    _, source = load_or_train()
    return source


def _flowers_for_07() -> str:
    from edgelab import sizes
    from edgelab.hub import flowers_classifier
    from edgelab.hub.handles import is_saved_model

    if is_saved_model(paths.model_path("flowers_hub_savedmodel")):
        return "notebook 05's SavedModel is there"
    # notebook 07 (edgelab.edge.sources.flowers_model) trains this one and exports it itself
    _, source = flowers_classifier.load_or_train(sizes("edge").flower_image_size)
    return source


def _hub_handles() -> list[str]:
    from edgelab import sizes
    from edgelab.hub import handles

    return [handles.CLASSIFIER_HANDLE, handles.feature_vector_handle(sizes("hub").image_size)]


def _hub_ready() -> bool:
    from edgelab.hub import handles, offline

    for handle in _hub_handles():
        cached = handles.hub_cache_dir() / handles.cache_key(handle)
        name = handles.edgelab_build_for(handle)
        if not (handles.is_saved_model(cached) or (name and offline.is_built(name))):
            return False
    return True


def _hub_make() -> str:
    from edgelab.hub import handles

    found = [handles.resolve(h) for h in _hub_handles()]
    return "; ".join(f"{r.handle.rsplit('/', 3)[-3]}...: {r.source}" for r in found)


FLOWER_CLASSIFIER = "flowers_mobilenet.keras"    # edgelab.hub.flowers_classifier.MODEL_FILE

LESSONS: dict[str, Lesson] = {l.number: l for l in (
    Lesson("01", "01_mnist_distribute", datasets=("mnist",),
           packages=("keras", "numpy"), optional_packages=("tensorflow", "jax"),
           one_of=("tensorflow", "jax"), engines=("tensorflow", "jax"),
           notes=("JAX is the engine on a TPU runtime (Colab's TPU runtimes have no "
                  "TensorFlow); elsewhere TensorFlow runs the lesson.",)),
    Lesson("02", "02_xception_sonnet_flowers", datasets=("flowers17",),
           packages=("tensorflow", "sonnet", "numpy"), engines=("tensorflow",)),
    Lesson("03", "03_gradcam",
           datasets=("sample_images", "mobilenet_v1_025", "imagenet_labels", "flowers17"),
           packages=("tensorflow", "keras", "sonnet", "cv2"), engines=("tensorflow",),
           handovers=(
               Handover("02", "the Xception notebook 02 trains", ("xception_flowers/config.json",),
                        "notebook 03 trains a small Xception itself (the quick sizes, "
                        "xception_fallback_epochs epochs)", _xception_for_03),
               Handover("03", "a flower classifier (frozen MobileNet + new head)",
                        (FLOWER_CLASSIFIER,),
                        "notebook 03 trains it in its Flower17 section", _flowers_for_03),
           )),
    Lesson("04", "04_chainer_datasets_updaters", datasets=("mnist", "flowers17"),
           packages=("chainer", "numpy", "cv2"), engines=("chainer",),
           notes=("Chainer runs on the CPU here; a GPU would need CuPy, which edgelab does "
                  "not install.",)),
    Lesson("05", "05_mobilenet_tfhub_transfer",
           datasets=("flowers17", "mobilenet_v1_025", "imagenet_labels", "sample_images"),
           packages=("tensorflow", "tensorflow_hub", "tf_keras", "keras"), engines=("tensorflow",),
           builds=(Build("the TF Hub MobileNet modules (downloaded when online; offline, "
                         "built from the Keras MobileNet weights in the data cache)",
                         _hub_ready, _hub_make),)),
    Lesson("06", "06_lineart_extraction", datasets=("sample_images", "flowers17"),
           packages=("cv2", "numpy"), engines=()),
    Lesson("07", "07_edge_quantization",
           datasets=("mnist", "flowers17", "mobilenet_tflite", "imagenet_labels", "sample_images",
                     "mobilenet_v1_025"),
           packages=("tensorflow", "keras", "ai_edge_litert", "tflite", "tf2onnx", "onnxruntime"),
           engines=("tensorflow",),
           handovers=(
               Handover("01", "the MNIST CNN notebook 01 trains",
                        ("mnist_cnn.keras", "mnist_cnn_quick.keras"),
                        "notebook 07 trains a small one itself (one epoch on 20,000 images)",
                        _mnist_for_07),
               Handover("05", "the fine-tuned flower classifier notebook 05 saves",
                        ("flowers_hub_savedmodel", FLOWER_CLASSIFIER),
                        "notebook 07 trains a Keras 3 flower classifier itself and exports it",
                        _flowers_for_07),
           )),
    Lesson("08", "08_pytorch_to_edge", datasets=("flowers17",),
           packages=("torch", "onnx", "onnxruntime", "onnx2tf", "litert_torch", "ai_edge_litert",
                     "tensorflow"),
           engines=("torch", "tensorflow"),
           notes=("Needs the torch extra (PyTorch and the converters), which make setup "
                  "installs; Colab ships its own PyTorch.",)),
)}


class UnknownLesson(ValueError):
    """A lesson name that matches none; the message lists them."""


def find(name: str) -> Lesson:
    """The lesson called ``name``: ``"5"``, ``"05"``, a stem or a notebook path."""
    text = Path(str(name)).name.removesuffix(".ipynb").strip()
    number = text.split("_", 1)[0]
    if number.isdigit() and f"{int(number):02d}" in LESSONS:
        lesson = LESSONS[f"{int(number):02d}"]
        if "_" not in text or text == lesson.stem or \
                (lesson.notebook is not None and lesson.notebook.stem == text):
            return lesson
    known = ", ".join(f"{n} ({l.stem})" for n, l in LESSONS.items())
    raise UnknownLesson(f"no lesson {name!r}; give a number or a notebook, one of: {known}")


def select(names) -> list[Lesson]:
    """The lessons named (all of them, in order, when ``names`` is empty)."""
    if not names:
        return list(LESSONS.values())
    chosen = [find(n) for n in names]
    return [l for l in LESSONS.values() if l in chosen]
