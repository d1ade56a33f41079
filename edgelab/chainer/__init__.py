"""Lesson 04: Chainer on NumPy 2 - lazy datasets, a multi-head updater, stochastic units.

* :mod:`~edgelab.chainer.compat` - restores the NumPy names Chainer 7.8.1 needs; every
  module here imports Chainer through it (``from edgelab.chainer.compat import chainer``);
* :mod:`~edgelab.chainer.datasets` - a lazy ``DatasetMixin`` over TSV image lists;
* :mod:`~edgelab.chainer.updaters` - a ``StandardUpdater`` with one optimizer per head,
  Trainer extensions (progress, resumable plots);
* :mod:`~edgelab.chainer.multihead` - the multi-head digit model the notebook trains;
* :mod:`~edgelab.chainer.stochastic` - likelihood-ratio vs reparameterization gradients, a VAE.

Importing this package imports nothing; import the module you need.
"""
