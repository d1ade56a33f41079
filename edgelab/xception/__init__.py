"""Lesson 02: Xception in Sonnet 2 on Oxford 17 flowers.

* :mod:`~edgelab.xception.model` - the paper's flows as small ``snt.Module`` classes,
  parameter counts, save and load;
* :mod:`~edgelab.xception.training` - the hand-written training loop: weight decay,
  staircase learning-rate decay, mixed precision, TensorBoard, resumable checkpoints;
* :mod:`~edgelab.xception.projector` - embeddings for TensorBoard's projector, PCA, t-SNE.

The model's names are importable from here (``from edgelab import xception`` then
``xception.Xception(17)``). Other lessons (03) get the trained model through
:func:`load_or_train` only.
"""

from edgelab.xception.model import (HEADS, MIN_IMAGE_SIZE, PAPER_TRAINABLE_PARAMS, EntryBlock,
                                    ExitFlow, MiddleBlock, SeparableConv2D, Stem, Widths, Xception,
                                    format_structure, load, model_dir, paper_model, paper_widths,
                                    read_config, save, structure, trainable_parameters)
from edgelab.xception.training import load_or_train

__all__ = ["HEADS", "MIN_IMAGE_SIZE", "PAPER_TRAINABLE_PARAMS", "EntryBlock", "ExitFlow",
           "MiddleBlock", "SeparableConv2D", "Stem", "Widths", "Xception", "format_structure",
           "load", "model_dir", "paper_model", "paper_widths", "read_config", "save", "structure",
           "trainable_parameters", "load_or_train"]
