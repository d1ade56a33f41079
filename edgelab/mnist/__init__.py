"""Lesson 01: MNIST on a TPU, GPUs or the CPU.

* :mod:`~edgelab.mnist.cnn` - the small Keras 3 CNN, its learning-rate scaling with the
  replica count, and :func:`load_or_train` for lessons that need it trained;
* :mod:`~edgelab.mnist.xla` - which ops an accelerator compiler (XLA) rejects.

Other lessons (07) get the trained CNN through :func:`load_or_train` only.
"""

from edgelab.mnist.cnn import load_or_train

__all__ = ["load_or_train"]
