"""Embeddings for TensorBoard's Embedding Projector, plus an inline 2-D view.

The projector (TensorBoard's "Projector" tab) shows a set of vectors in 3-D (PCA, t-SNE,
UMAP), each point labelled and drawn as its thumbnail. It needs four files in the log
folder TensorBoard is pointed at:

* ``vectors.tsv`` - one vector per line, tab-separated (the config's ``tensor_path``;
  no checkpoint needed);
* ``metadata.tsv`` - a header ``file<TAB>label<TAB>class`` then one row per vector;
* ``sprite.png`` - all thumbnails in one square grid, row by row in vector order;
* ``projector_config.pbtxt`` - ties them together (paths relative to the folder).

:func:`write_projector` writes all four, each atomically, and checks the inputs agree in
length, so a half-written or mismatched projector is never left behind. Open it with
``tensorboard --logdir <folder>`` and choose "Projector".

For readers who stay in the notebook, :func:`pca_2d` / :func:`tsne_2d` and
:func:`scatter_by_class` draw the same vectors flattened to two dimensions.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from edgelab.core.atomic import atomic_write

VECTORS_FILE = "vectors.tsv"
METADATA_FILE = "metadata.tsv"
SPRITE_FILE = "sprite.png"
CONFIG_FILE = "projector_config.pbtxt"  # the name TensorBoard's projector plugin looks for
METADATA_HEADER = ("file", "label", "class")
MAX_SPRITE_SIDE = 8192  # the projector refuses larger sprite images


def _clean(text: str) -> str:
    """A metadata cell: tabs and newlines would break the TSV."""
    return " ".join(str(text).replace("\t", " ").splitlines()).strip() or "-"


def _to_uint8(images) -> np.ndarray:
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4 or a.shape[-1] not in (1, 3):
        raise ValueError(f"images must be [N, H, W, 3] (or 1 channel), got shape {a.shape}")
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    if a.dtype == np.uint8:
        return a
    if a.size and (a.min() < 0 or a.max() > 1.0 + 1e-6):
        raise ValueError("float images must be in [0, 1] (uint8 images in [0, 255])")
    return np.round(a * 255).astype(np.uint8)


def sprite_image(images, thumb: int = 64) -> np.ndarray:
    """All ``images`` as ``thumb`` x ``thumb`` tiles in a square grid, row by row
    (unused tiles black): the projector's sprite. Returns uint8 [side, side, 3]."""
    import cv2

    imgs = _to_uint8(images)
    n = len(imgs)
    if n == 0:
        raise ValueError("no images for the sprite")
    cols = math.ceil(math.sqrt(n))
    if cols * thumb > MAX_SPRITE_SIDE:
        raise ValueError(f"{n} thumbnails of {thumb}px make a {cols * thumb}px sprite; the "
                         f"projector takes at most {MAX_SPRITE_SIDE}px: use a smaller thumb")
    sprite = np.zeros((cols * thumb, cols * thumb, 3), np.uint8)
    for i, img in enumerate(imgs):
        r, c = divmod(i, cols)
        tile = cv2.resize(img, (thumb, thumb), interpolation=cv2.INTER_AREA)
        sprite[r * thumb:(r + 1) * thumb, c * thumb:(c + 1) * thumb] = tile
    return sprite


def config_text(*, tensor_name: str, thumb: int, vectors=VECTORS_FILE,
                metadata=METADATA_FILE, sprite=SPRITE_FILE) -> str:
    """The ``projector_config.pbtxt`` text (via TensorBoard's own ``ProjectorConfig``)."""
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    config = ProjectorConfig()
    emb = config.embeddings.add()
    emb.tensor_name = tensor_name
    emb.tensor_path = vectors
    emb.metadata_path = metadata
    emb.sprite.image_path = sprite
    emb.sprite.single_image_dim.extend([thumb, thumb])
    return text_format.MessageToString(config)


def write_projector(log_dir: str | os.PathLike, vectors, labels: Sequence[int],
                    class_names: Sequence[str], files: Sequence[str], images, *,
                    tensor_name: str = "embedding", thumb: int = 64) -> dict[str, Path]:
    """Write vectors, metadata, sprite and config into ``log_dir`` (created if needed).

    ``vectors`` [N, D]; ``labels`` N class indices into ``class_names``; ``files`` N
    image paths (only the file name goes into the metadata); ``images`` N images (float
    in [0, 1] or uint8) for the sprite. Returns ``{kind: path}``.
    """
    vec = np.asarray(vectors, np.float32)
    if vec.ndim != 2 or vec.shape[0] == 0:
        raise ValueError(f"vectors must be [N, D] with N >= 1, got shape {vec.shape}")
    if not np.all(np.isfinite(vec)):
        raise ValueError("vectors contain NaN or inf; the projector cannot place them")
    n = len(vec)
    labels = np.asarray(labels).astype(int)
    lengths = {"labels": len(labels), "files": len(files), "images": len(images)}
    bad = {k: v for k, v in lengths.items() if v != n}
    if bad:
        raise ValueError(f"{n} vectors but " + ", ".join(f"{v} {k}" for k, v in bad.items()))
    if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise ValueError(f"labels must index class_names (0..{len(class_names) - 1}), "
                         f"got {labels.min()}..{labels.max()}")
    sprite = sprite_image(images, thumb)   # validates images before anything is written
    import cv2

    ok, png = cv2.imencode(".png", sprite[..., ::-1])   # OpenCV writes BGR
    if not ok:
        raise RuntimeError("OpenCV could not encode the sprite as PNG")

    folder = Path(log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    out = {k: folder / f for k, f in (("vectors", VECTORS_FILE), ("metadata", METADATA_FILE),
                                      ("sprite", SPRITE_FILE), ("config", CONFIG_FILE))}
    with atomic_write(out["vectors"], encoding="utf-8") as h:
        for row in vec:
            h.write("\t".join(f"{x:.6g}" for x in row) + "\n")
    with atomic_write(out["metadata"], encoding="utf-8") as h:
        h.write("\t".join(METADATA_HEADER) + "\n")
        for f, y in zip(files, labels):
            h.write(f"{_clean(Path(str(f)).name)}\t{int(y)}\t{_clean(class_names[y])}\n")
    with atomic_write(out["sprite"], "wb") as h:
        h.write(png.tobytes())
    # The config last: TensorBoard only looks at the other files once it exists.
    with atomic_write(out["config"], encoding="utf-8") as h:
        h.write(config_text(tensor_name=tensor_name, thumb=thumb))
    return out


def describe(log_dir: str | os.PathLike) -> list[str]:
    """One line per projector file: name and shape (no paths), for a checked cell."""
    import cv2

    folder = Path(log_dir)
    lines = []
    rows = (folder / VECTORS_FILE).read_text(encoding="utf-8").splitlines()
    lines.append(f"{VECTORS_FILE}: {len(rows)} vectors x {len(rows[0].split(chr(9)))} values")
    meta = (folder / METADATA_FILE).read_text(encoding="utf-8").splitlines()
    lines.append(f"{METADATA_FILE}: header {meta[0].split(chr(9))}, {len(meta) - 1} rows")
    sprite = cv2.imread(str(folder / SPRITE_FILE))
    lines.append(f"{SPRITE_FILE}: {sprite.shape[1]}x{sprite.shape[0]} px")
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    config = text_format.Parse((folder / CONFIG_FILE).read_text(encoding="utf-8"),
                               ProjectorConfig())
    for e in config.embeddings:
        lines.append(f"{CONFIG_FILE}: tensor {e.tensor_name!r} <- {e.tensor_path}, metadata "
                     f"{e.metadata_path}, sprite {e.sprite.image_path} "
                     f"{list(e.sprite.single_image_dim)}")
    return lines


# --------------------------------------------------------------------------- inline 2-D

def pca_2d(vectors) -> np.ndarray:
    """The first two principal components of ``vectors`` [N, D] -> [N, 2].

    Signs are fixed (largest loading positive) so the picture is the same on every run.
    """
    x = np.asarray(vectors, np.float64)
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    comps = vt[:2]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    return x @ (comps * signs[:, None]).T


def tsne_2d(vectors, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """t-SNE of ``vectors`` to 2-D (scikit-learn; PCA initialisation, fixed seed)."""
    from sklearn.manifold import TSNE

    x = np.asarray(vectors, np.float32)
    perplexity = min(perplexity, max(2.0, (len(x) - 1) / 3))
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)


def scatter_by_class(points, labels, class_names: Sequence[str], title: str = "", ax=None):
    """Scatter plot of 2-D ``points``, one colour and marker per class, each class's name
    written at its median point (17 colours alone are hard to tell apart)."""
    import matplotlib.pyplot as plt

    pts = np.asarray(points)
    labels = np.asarray(labels)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 6))
    else:
        fig = ax.figure
    import matplotlib.patheffects as effects

    cmap = plt.get_cmap("tab20")
    markers = "os^Dv<>P"
    for c, name in enumerate(class_names):
        m = labels == c
        # tab20 lists each hue twice (dark, light): neighbouring classes get other markers
        ax.scatter(pts[m, 0], pts[m, 1], s=18, color=cmap(c % 20), marker=markers[c % len(markers)],
                   label=name, alpha=0.85, edgecolors="none")
        if m.any():
            cx, cy = np.median(pts[m], axis=0)
            ax.text(cx, cy, name, fontsize=7, ha="center", va="center", color="black",
                    path_effects=[effects.withStroke(linewidth=2.5, foreground="white")])
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    return fig
