"""TF Hub offline: turn a handle into a local SavedModel folder, then fine-tune and save.

TF Hub handles are URLs (tfhub.dev, now redirected to Kaggle Models) that a machine
without internet cannot reach. :func:`resolve_handle` finds a local copy instead, looking
in this order and stopping at the first hit:

1. the handle itself as a **local folder** holding a SavedModel;
2. the **TF Hub cache**: ``$TFHUB_CACHE_DIR/<sha1 of the handle>``, the folder
   ``tensorflow_hub`` downloads into (its default without the variable:
   ``<temp dir>/tfhub_modules``), so a model downloaded once on a connected machine and
   copied along is found;
3. the **canonical URL**, through ``tensorflow_hub.resolve`` (which downloads into that
   cache), when the machine is online (skipped when ``EDGELAB_OFFLINE=1``);
4. for the MobileNet v1 handles in :data:`KNOWN_HANDLES`, **edgelab's own build** from the
   Keras ImageNet weights in the data layer (see :mod:`edgelab.hub.offline`), so the
   lessons run offline.

If none has it, :class:`HubHandleError` lists every place looked and how to make the
model available offline.

Hub layers are tf_keras (Keras 2) layers: a process that uses ``hub.KerasLayer`` must set
``TF_USE_LEGACY_KERAS=1`` before TensorFlow is imported (a Keras 3 model refuses the layer).
The transfer-learning helpers in :mod:`edgelab.hub.transfer` expect such a process.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Sequence

from edgelab.hub import offline as offline_modules

CACHE_VAR = "TFHUB_CACHE_DIR"
OFFLINE_VAR = "EDGELAB_OFFLINE"
LEGACY_KERAS_VAR = "TF_USE_LEGACY_KERAS"
PROBE_TIMEOUT = 5.0  # seconds to wait for the Hub's host before calling the machine offline

# Where learners find the models today. Since November 2023 tfhub.dev redirects to Kaggle
# Models, where each TF2 SavedModel is a "variation" of a model (tensorflow/tfhub.dev
# README); tensorflow_hub downloads from both kinds of URL. The tfhub.dev names stay known
# because older tutorials (and the source post's) use them.
KAGGLE_ROOT = "https://www.kaggle.com/models/google/mobilenet-v1/TensorFlow2/"
TFHUB_ROOT = "https://tfhub.dev/google/imagenet/"
CLASSIFIER_HANDLE = KAGGLE_ROOT + "025-128-classification/2"
# One feature-vector module per training resolution: 224-px input goes to the 224-px module.
FEATURE_VECTOR_HANDLES = {128: KAGGLE_ROOT + "025-128-feature-vector/2",
                          224: KAGGLE_ROOT + "025-224-feature-vector/2"}
FEATURE_VECTOR_HANDLE = FEATURE_VECTOR_HANDLES[128]
# Published handle (Kaggle Models, and its tfhub.dev name) -> the edgelab module built from
# the same network's Keras weights, with the same interface (see edgelab.hub.offline).
KNOWN_HANDLES = {
    CLASSIFIER_HANDLE: "mobilenet_v1_025_128_classification",
    FEATURE_VECTOR_HANDLES[128]: "mobilenet_v1_025_128_feature_vector",
    FEATURE_VECTOR_HANDLES[224]: "mobilenet_v1_025_224_feature_vector",
    TFHUB_ROOT + "mobilenet_v1_025_128/classification/5": "mobilenet_v1_025_128_classification",
    TFHUB_ROOT + "mobilenet_v1_025_128/feature_vector/5": "mobilenet_v1_025_128_feature_vector",
    TFHUB_ROOT + "mobilenet_v1_025_224/feature_vector/5": "mobilenet_v1_025_224_feature_vector",
}
_KAGGLE_HANDLES = [h for h in KNOWN_HANDLES if h.startswith(KAGGLE_ROOT)]
_KNOWN_LOWER = {h.lower(): name for h, name in KNOWN_HANDLES.items()}
# Kaggle's long form of a model URL: .../frameworks/<fw>/variations/<v>/versions/<n>
_KAGGLE_LONG = re.compile(r"^(https://www\.kaggle\.com/models/[^/]+/[^/]+)/frameworks/([^/]+)"
                          r"/variations/([^/]+)/versions/(\d+)$", re.IGNORECASE)


def feature_vector_handle(image_size: int) -> str:
    """The published MobileNet v1 0.25 feature-vector handle trained at ``image_size`` px."""
    try:
        return FEATURE_VECTOR_HANDLES[int(image_size)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"MobileNet v1 0.25 feature vectors are published for "
                         f"{' and '.join(map(str, FEATURE_VECTOR_HANDLES))} px inputs, not "
                         f"{image_size!r}; use one of those sizes (or pass a handle)") from None


def edgelab_build_for(handle: str) -> str | None:
    """The edgelab module that stands in for ``handle`` (a normalized handle), if any."""
    return _KNOWN_LOWER.get(handle.lower())


class HubHandleError(LookupError):
    """A handle no source could provide; the message (and ``looked``) list where edgelab
    looked, and the message says how to make the model available offline."""

    def __init__(self, message: str, looked: Sequence["Looked"] = (), handle: str = ""):
        super().__init__(message)
        self.looked = tuple(looked)
        self.handle = handle

    def shown(self) -> str:
        """The message with every local path as :func:`edgelab.core.paths.shown` prints it
        (``$EDGELAB_HOME/...``, or a folder's name), for notebooks and logs that others read."""
        return _not_found_message(self.handle, self.looked, show=_shown)


class Looked(NamedTuple):
    """One place :func:`resolve` looked: what kind of place, where exactly, what it found."""

    place: str    # "local folder", "TF Hub cache", "download", "edgelab build"
    where: str    # a path, URL or module name ("" when not applicable)
    outcome: str
    note: str = ""  # about ``where`` (e.g. which setting chose that folder)

    def __str__(self) -> str:
        return self.text()

    def text(self, show=str) -> str:
        """One line; ``show`` formats a local path (e.g. :func:`edgelab.core.paths.shown`)."""
        where = self.where if (not self.where or is_url(self.where)
                               or self.place in ("download", "edgelab build")) else show(self.where)
        where = f" {where}" if where else ""
        note = f" ({self.note})" if self.note else ""
        return f"{self.place}{where}{note}: {self.outcome}"


def _shown(path) -> str:
    from edgelab.core import paths

    return paths.shown(path)


@dataclass(frozen=True)
class Resolved:
    """Where a handle was found: ``path`` (a local SavedModel folder), ``source`` (one of
    the places: "local folder", "TF Hub cache", "download", "edgelab build") and
    ``looked``, the places tried before it without success."""

    handle: str
    path: str
    source: str
    looked: tuple[Looked, ...] = field(default=(), compare=False)


# --------------------------------------------------------------------------- resolution

def hub_cache_dir() -> Path:
    """The folder tensorflow_hub caches downloads in: ``$TFHUB_CACHE_DIR`` or its default."""
    value = os.environ.get(CACHE_VAR, "").strip()
    return Path(value).expanduser() if value else Path(tempfile.gettempdir()) / "tfhub_modules"


def cache_key(handle: str) -> str:
    """The cache folder name tensorflow_hub uses for ``handle``: sha1 of the handle string."""
    return hashlib.sha1(handle.encode("utf8")).hexdigest()


def is_url(handle: str) -> bool:
    return urllib.parse.urlparse(handle).scheme in ("http", "https", "gs")


def normalize(handle: str) -> str:
    """The handle without surrounding spaces, a trailing slash or a format query."""
    handle = handle.strip()
    if is_url(handle):
        parts = urllib.parse.urlparse(handle)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "tf-hub-format"]
        handle = urllib.parse.urlunparse(parts._replace(query=urllib.parse.urlencode(query)))
        handle = handle.rstrip("/")
        long = _KAGGLE_LONG.match(handle)
        if long:
            handle = "/".join(long.groups())
    return handle


def is_saved_model(folder: str | os.PathLike) -> bool:
    folder = Path(folder)
    return (folder / "saved_model.pb").is_file() or (folder / "saved_model.pbtxt").is_file()


def offline() -> bool:
    return os.environ.get(OFFLINE_VAR, "").strip().lower() in ("1", "true", "yes")


def reachable(url: str, timeout: float = PROBE_TIMEOUT) -> tuple[bool, str]:
    """Can we open a TCP connection to ``url``'s host? ``(answer, reason)``; never raises."""
    parts = urllib.parse.urlparse(url)
    port = parts.port or (443 if parts.scheme in ("https", "gs") else 80)
    host = parts.hostname or ""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, ""
    except OSError as err:
        return False, f"{host}:{port} is not reachable ({err.strerror or err})"


def _check_handle(handle) -> str:
    if isinstance(handle, os.PathLike):
        handle = os.fspath(handle)
    if not isinstance(handle, str):
        raise TypeError(f"a Hub handle is a URL or a folder path (str), got {type(handle).__name__}")
    if not handle.strip():
        raise ValueError("the Hub handle is empty; pass a tfhub.dev / Kaggle URL or a folder")
    return handle


def resolve(handle: str | os.PathLike, *, online: bool | None = None,
            build: bool = True) -> Resolved:
    """Find ``handle`` locally (see the module docstring for the order) -> :class:`Resolved`.

    ``online=None`` means: try the URL unless ``EDGELAB_OFFLINE=1``; ``online=False``
    never touches the network. ``build=False`` skips edgelab's own builds.
    """
    raw = _check_handle(handle)
    handle = normalize(raw)
    looked: list[Looked] = []

    # 1. a local folder
    if not is_url(handle):
        folder = Path(handle).expanduser()
        if folder.is_dir() and is_saved_model(folder):
            return Resolved(handle, str(folder), "local folder", tuple(looked))
        looked.append(Looked("local folder", str(folder),
                             "exists but holds no saved_model.pb" if folder.is_dir() else
                             "is a file, not a SavedModel folder" if folder.exists() else
                             "does not exist"))
    else:
        looked.append(Looked("local folder", "", "the handle is a URL, not a folder"))

    # 2. the TF Hub cache (tensorflow_hub names folders by the sha1 of the handle as typed)
    cache = hub_cache_dir()
    env = (f"${CACHE_VAR}" if os.environ.get(CACHE_VAR, "").strip()
           else f"{CACHE_VAR} is not set: tensorflow_hub's default")
    for key in dict.fromkeys([raw.strip(), handle]):
        candidate = cache / cache_key(key)
        if candidate.is_dir() and is_saved_model(candidate):
            return Resolved(handle, str(candidate), "TF Hub cache", tuple(looked))
        looked.append(Looked("TF Hub cache", str(candidate),
                             "exists but holds no saved_model.pb" if candidate.is_dir()
                             else "not there", env))

    # 3. the canonical URL, through tensorflow_hub's own resolver
    if is_url(handle):
        want_online = (not offline()) if online is None else online
        if not want_online:
            why = f"{OFFLINE_VAR}=1" if online is None else "online=False"
            looked.append(Looked("download", handle, f"skipped ({why})"))
        else:
            ok, reason = reachable(handle)
            if not ok:
                looked.append(Looked("download", handle, reason))
            else:
                try:
                    import tensorflow_hub as hub

                    return Resolved(handle, str(hub.resolve(handle)), "download", tuple(looked))
                except Exception as err:  # noqa: BLE001 - urllib, TF and Hub raise many types
                    looked.append(Looked("download", handle,
                                         f"failed ({type(err).__name__}: {err})"))
    else:
        looked.append(Looked("download", "", "not a URL"))

    # 4. edgelab's own build of a known MobileNet handle
    name = edgelab_build_for(handle)
    if name is None:
        looked.append(Looked("edgelab build", "", "edgelab builds only the handles "
                             + ", ".join(_KAGGLE_HANDLES) + " (and their tfhub.dev names)"))
    elif not build:
        looked.append(Looked("edgelab build", name, "skipped (build=False)"))
    else:
        from edgelab.datasets.cache import DataError

        try:
            return Resolved(handle, str(offline_modules.build(name)), "edgelab build", tuple(looked))
        except DataError as err:
            looked.append(Looked("edgelab build", name,
                                 f"the MobileNet weights are not available ({err})"))

    raise HubHandleError(_not_found_message(handle, looked), looked, handle)


def resolve_handle(handle: str | os.PathLike, *, online: bool | None = None,
                   build: bool = True) -> str:
    """The local SavedModel folder for ``handle`` (a str, ready for ``hub.KerasLayer``)."""
    return resolve(handle, online=online, build=build).path


def _not_found_message(handle: str, looked: Sequence[Looked], show=str) -> str:
    places = "\n".join(f"  {i}. {place.text(show)}" for i, place in enumerate(looked, 1))
    cache = show(hub_cache_dir())
    return (
        f"cannot find the TF Hub model {handle!r}. Looked in:\n{places}\n"
        "To make it available offline, do one of:\n"
        f"  - on a machine with internet, run  TFHUB_CACHE_DIR=hub_cache python -c "
        f"\"import tensorflow_hub as hub; print(hub.resolve('{handle}'))\"  and copy "
        f"hub_cache/{cache_key(handle)} into this machine's TF Hub cache, {cache} (or set "
        f"{CACHE_VAR} to the folder you copy into);\n"
        "  - or download the model's archive from Kaggle Models (tfhub.dev redirects there), "
        "extract it, and pass the extracted folder (the one with saved_model.pb) as the handle;\n"
        "  - or use one of the handles edgelab builds itself from the data layer's weights "
        f"({', '.join(_KAGGLE_HANDLES)}, or their tfhub.dev names); they need the MobileNet "
        "weights: run  edgelab data fetch mobilenet_v1_025  once on a machine with internet "
        "(then copy edgelab's data folder along), or set EDGELAB_MIRROR to a local copy of "
        "edgelab's data files.")
