"""Stochastic units in Chainer: two ways to differentiate through a random sample, and a small VAE.

Why this module exists
----------------------
A network with a random unit ``z ~ q(z | phi)`` is trained on ``E_q[f(z)]``, and the
gradient of an expectation with respect to the distribution's parameters is not the
expectation of a gradient you can backpropagate naively: the sample itself depends on
``phi``. Two unbiased estimators exist, and this module implements both for a diagonal
Gaussian ``q = N(mu, exp(ln_var))`` so they can be compared on the same objective:

**Reparameterization** (pathwise): write ``z = mu + exp(ln_var / 2) * eps`` with
``eps ~ N(0, I)`` independent of ``phi``; then ``grad E[f(z)] = E[grad_phi f(mu + sigma
eps)]``, which ordinary backpropagation computes. It needs ``f`` to be differentiable in
``z`` and uses that derivative, which is why its variance is low.

**Likelihood ratio** (score function, REINFORCE): ``grad E[f(z)] = E[f(z) grad_phi log
q(z)]``. It needs only *values* of ``f`` (f can be a black box, z can be discrete), but
``f(z)`` multiplies a zero-mean noise term, so its variance grows with ``|f|``. Subtracting
a **baseline** ``b`` that does not depend on the sample, ``E[(f(z) - b) grad log q(z)]``,
keeps it unbiased (``E[grad log q] = 0``) and removes most of that variance. Here the
baseline is the *leave-one-out* mean: with ``K`` samples, sample ``k`` uses the mean of
``f`` over the other ``K - 1``. In code the estimator is a **surrogate loss**:
``sum((f - b) * log q(z))`` with ``f`` and ``b`` held constant, backpropagated to ``phi``.

Both estimators take ``mu`` and ``ln_var`` arrays of shape ``(B, D)`` (a batch of
distributions), a function ``f`` mapping samples ``z`` of shape ``(K, B, D)`` to values
``(K, B)`` (a Chainer function for reparameterization; any for the likelihood ratio), the
number of samples ``K`` and a NumPy ``Generator``; they return the gradient of
``sum_b E[f(z_b)]`` with respect to ``mu`` and ``ln_var`` as two ``(B, D)`` arrays.

:class:`VAE` is the small variational autoencoder of notebook 04 (MLP encoder and decoder,
Bernoulli pixels), trained with the reparameterization trick; ``vae.log_likelihood(x)``
gives the ``f`` whose gradient the estimators are compared on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from edgelab.chainer.compat import chainer

import chainer.functions as F  # noqa: E402
import chainer.links as L  # noqa: E402

ESTIMATORS = ("reparameterization", "likelihood ratio + baseline", "likelihood ratio")


def _check(mu, ln_var, n_samples):
    xp = chainer.backend.get_array_module(mu)
    mu = xp.asarray(mu, dtype=np.float32)
    ln_var = xp.asarray(ln_var, dtype=np.float32)
    if mu.ndim != 2 or mu.shape != ln_var.shape:
        raise ValueError(f"mu and ln_var must both have shape (batch, dim); got {mu.shape} and "
                         f"{ln_var.shape}")
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
    return xp, mu, ln_var


def _noise(xp, rng: np.random.Generator, shape):
    """Standard-normal noise drawn on the host (one seeded stream on every device), sent to xp."""
    return xp.asarray(rng.standard_normal(shape).astype(np.float32))


def _values(f, z, n_samples, batch) -> np.ndarray | chainer.Variable:
    out = f(z)
    shape = out.shape
    if tuple(shape) != (n_samples, batch):
        raise ValueError(f"f must map samples of shape {tuple(z.shape)} to values of shape "
                         f"({n_samples}, {batch}), got {tuple(shape)}")
    return out


def reparameterization_gradient(mu, ln_var, f: Callable, n_samples: int,
                                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pathwise estimate of d/d(mu, ln_var) of ``sum_b E[f(z)]`` from ``n_samples`` draws."""
    xp, mu, ln_var = _check(mu, ln_var, n_samples)
    mu_v, lv_v = chainer.Variable(mu.copy()), chainer.Variable(ln_var.copy())
    eps = _noise(xp, rng, (n_samples,) + mu.shape)
    z = (F.broadcast_to(mu_v, eps.shape) + F.broadcast_to(F.exp(0.5 * lv_v), eps.shape) * eps)
    values = _values(f, z, n_samples, mu.shape[0])
    if not isinstance(values, chainer.Variable) or values.creator is None:
        raise TypeError("the reparameterization estimator needs f to be a differentiable "
                        "Chainer function of z (it returned a constant)")
    objective = F.sum(values) / n_samples
    objective.backward()
    return mu_v.grad, lv_v.grad


def gaussian_log_density(z, mu, ln_var):
    """``log N(z; mu, exp(ln_var))`` summed over the last axis (a Chainer function)."""
    return -0.5 * F.sum(ln_var + (z - mu) ** 2 * F.exp(-ln_var) + math.log(2 * math.pi), axis=-1)


def likelihood_ratio_gradient(mu, ln_var, f: Callable, n_samples: int, rng: np.random.Generator,
                              *, baseline: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Score-function (REINFORCE) estimate of d/d(mu, ln_var) of ``sum_b E[f(z)]``.

    ``baseline``: ``None`` or ``"leave-one-out"`` (needs ``n_samples >= 2``).
    """
    xp, mu, ln_var = _check(mu, ln_var, n_samples)
    if baseline not in (None, "leave-one-out"):
        raise ValueError(f"baseline must be None or 'leave-one-out', got {baseline!r}")
    if baseline and n_samples < 2:
        raise ValueError("the leave-one-out baseline needs n_samples >= 2 (each sample's "
                         "baseline is the mean of the others)")
    eps = _noise(xp, rng, (n_samples,) + mu.shape)
    z = mu + xp.exp(0.5 * ln_var) * eps
    with chainer.no_backprop_mode():
        values = _values(f, chainer.Variable(z), n_samples, mu.shape[0])
    fz = xp.asarray(getattr(values, "array", values), dtype=np.float32)
    b = (fz.sum(axis=0, keepdims=True) - fz) / (n_samples - 1) if baseline else 0.0
    mu_v, lv_v = chainer.Variable(mu.copy()), chainer.Variable(ln_var.copy())
    log_q = gaussian_log_density(z, F.broadcast_to(mu_v, z.shape), F.broadcast_to(lv_v, z.shape))
    surrogate = F.sum((fz - b) * log_q) / n_samples   # f and b are constants here
    surrogate.backward()
    return mu_v.grad, lv_v.grad


def estimate(name: str, mu, ln_var, f, n_samples: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Run the estimator called ``name`` (one of :data:`ESTIMATORS`)."""
    if name == "reparameterization":
        return reparameterization_gradient(mu, ln_var, f, n_samples, rng)
    if name == "likelihood ratio + baseline":
        return likelihood_ratio_gradient(mu, ln_var, f, n_samples, rng, baseline="leave-one-out")
    if name == "likelihood ratio":
        return likelihood_ratio_gradient(mu, ln_var, f, n_samples, rng)
    raise ValueError(f"unknown estimator {name!r}; choose from {ESTIMATORS}")


@dataclass
class GradientSpread:
    """Repeated estimates of one gradient: ``estimates`` is (repeats, parameters)."""

    name: str
    estimates: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return self.estimates.mean(axis=0)

    @property
    def variance(self) -> float:
        """Variance across repeats, averaged over the gradient's components."""
        return float(self.estimates.var(axis=0, ddof=1).mean())


def gradient_spread(mu, ln_var, f, *, repeats: int, n_samples: int, seed: int = 0,
                    names=ESTIMATORS, progress: bool = False) -> dict[str, GradientSpread]:
    """Estimate the same gradient ``repeats`` times with each estimator (seeded).

    Each estimator draws from its own generator, seeded by ``(seed, its position)``.
    """
    from edgelab.core.progress import bar as tqdm

    if repeats < 2:
        raise ValueError(f"repeats must be at least 2 to measure a variance, got {repeats}")
    cpu = chainer.get_device("@numpy")
    out = {}
    with tqdm(total=repeats * len(names), desc="gradient estimates", unit="est", leave=False,
              mininterval=2.0, disable=not progress) as bar:
        for k, name in enumerate(names):
            rng = np.random.default_rng([seed, k])
            rows = []
            for _ in range(repeats):
                g_mu, g_lv = estimate(name, mu, ln_var, f, n_samples, rng)
                rows.append(np.concatenate([np.ravel(cpu.send(g_mu)), np.ravel(cpu.send(g_lv))]))
                bar.update(1)
            out[name] = GradientSpread(name, np.stack(rows))
    return out


class VAE(chainer.Chain):
    """Variational autoencoder: MLP encoder to a diagonal Gaussian ``q(z|x)``, MLP decoder to
    Bernoulli pixel logits ``p(x|z)``, standard-normal prior. Inputs: (B, n_in) in [0, 1]."""

    def __init__(self, n_in: int = 784, n_hidden: int = 256, n_latent: int = 8):
        super().__init__()
        self.n_in, self.n_latent = n_in, n_latent
        with self.init_scope():
            self.enc = L.Linear(n_in, n_hidden)
            self.enc_mu = L.Linear(n_hidden, n_latent)
            self.enc_ln_var = L.Linear(n_hidden, n_latent)
            self.dec = L.Linear(n_latent, n_hidden)
            self.dec_out = L.Linear(n_hidden, n_in)

    def _flat(self, x):
        x = x.reshape(len(x), -1)
        if x.shape[1] != self.n_in:
            raise ValueError(f"VAE expects {self.n_in} pixels per image, got {x.shape[1]}")
        return x

    def encode(self, x):
        h = F.tanh(self.enc(self._flat(x)))
        return self.enc_mu(h), self.enc_ln_var(h)

    def decode(self, z):
        """Pixel logits for latent codes ``z`` of shape (..., n_latent)."""
        lead = z.shape[:-1]
        logits = self.dec_out(F.tanh(self.dec(z.reshape(-1, self.n_latent))))
        return logits.reshape(lead + (self.n_in,))

    def forward(self, x):
        """The negative ELBO per image (one reparameterized sample); reports rec, kl, loss."""
        x = self._flat(x)
        mu, ln_var = self.encode(x)
        eps = self.xp.random.standard_normal(mu.shape).astype(mu.dtype)
        z = mu + F.exp(0.5 * ln_var) * eps                   # the reparameterization trick
        batch = len(x)
        rec = F.bernoulli_nll(x, self.decode(z)) / batch      # -log p(x|z)
        kl = F.gaussian_kl_divergence(mu, ln_var) / batch     # KL(q(z|x) || N(0, I))
        loss = rec + kl
        chainer.report({"loss": loss, "rec": rec, "kl": kl}, self)
        return loss

    def log_likelihood(self, x) -> Callable:
        """``f(z) = log p(x|z)`` for a fixed batch ``x``: samples (K, B, D) -> values (K, B)."""
        x = self._flat(self.xp.asarray(x, dtype=np.float32))

        def f(z):
            logits = self.decode(z)
            target = self.xp.broadcast_to(x, logits.shape)
            return -F.sum(F.bernoulli_nll(target, logits, reduce="no"), axis=-1)

        return f

    def reconstruct(self, x) -> np.ndarray:
        """Pixel probabilities decoded from the mean code of each image."""
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            mu, _ = self.encode(self.xp.asarray(x, dtype=np.float32))
            return F.sigmoid(self.decode(mu)).array

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Pixel probabilities of ``n`` images decoded from prior samples."""
        z = self.xp.asarray(rng.standard_normal((n, self.n_latent)), dtype=np.float32)
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            return F.sigmoid(self.decode(z)).array
