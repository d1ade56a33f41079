"""Notebook 04's exercise checkers can fail: the reference solution passes, the untouched
starter is "not done yet", and each realistic mistake gets its own message.

The namespace stands in for the notebook at its exercise cells, on smaller sizes: Chainer
through edgelab's compat module, the lesson's updater, and a small VAE's q(z|x) and f for
the variance exercise (untrained: the 1/n law the check relies on holds for any f).
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from _exercises import prove


def build_context() -> dict:
    from edgelab.chainer.compat import chainer

    import chainer.functions as F

    from edgelab.chainer import datasets as chainer_datasets, stochastic
    from edgelab.chainer.updaters import MultiHeadUpdater
    from edgelab.datasets import mnist

    np.random.seed(0)
    vae = stochastic.VAE(n_latent=8)
    _, (x_test, _) = mnist.load()
    x = mnist.to_float(x_test[:2]).reshape(-1, 784)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        mu, ln_var = (v.array for v in vae.encode(x))
    f = vae.log_likelihood(x)
    S = types.SimpleNamespace(variance_samples=40)
    spread = stochastic.gradient_spread(mu, ln_var, f, repeats=S.variance_samples, n_samples=8,
                                        seed=42, names=["likelihood ratio + baseline"])
    return dict(np=np, chainer=chainer, F=F, chainer_datasets=chainer_datasets,
                stochastic=stochastic, MultiHeadUpdater=MultiHeadUpdater, mu=mu, ln_var=ln_var,
                f=f, S=S, spread=spread, lab=types.SimpleNamespace(seed=42))


@pytest.fixture(scope="module")
def context():
    return build_context()


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_exercise(number, context):
    prove("04", number, context)
