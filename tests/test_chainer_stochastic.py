"""Gradient estimators for stochastic units, and the small VAE."""

from __future__ import annotations

import numpy as np
import pytest

from edgelab.chainer.compat import chainer
import chainer.functions as F  # noqa: E402

from edgelab.chainer import stochastic as st  # noqa: E402

A = np.float32(0.5)


def quadratic(z):
    """f(z) = -sum (z - a)^2, whose expectation under N(mu, sigma^2) is known exactly."""
    return -F.sum((z - A) ** 2, axis=-1)


def exact_gradient(mu, ln_var):
    # E[f] = -sum((mu - a)^2 + sigma^2): d/dmu = -2 (mu - a), d/dln_var = -sigma^2
    return -2 * (mu - A), -np.exp(ln_var)


@pytest.fixture
def gaussian():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(3, 4)).astype(np.float32)
    ln_var = (0.3 * rng.normal(size=(3, 4))).astype(np.float32)
    return mu, ln_var


@pytest.mark.parametrize("name, tol", [("reparameterization", 0.05),
                                       ("likelihood ratio + baseline", 0.2),
                                       ("likelihood ratio", 0.3)])
def test_every_estimator_is_unbiased(gaussian, name, tol):
    mu, ln_var = gaussian
    g_mu, g_lv = st.estimate(name, mu, ln_var, quadratic, 20_000, np.random.default_rng(1))
    t_mu, t_lv = exact_gradient(mu, ln_var)
    assert g_mu.shape == mu.shape and g_lv.shape == ln_var.shape
    assert np.abs(g_mu - t_mu).max() < tol
    assert np.abs(g_lv - t_lv).max() < tol


def test_likelihood_ratio_surrogate_matches_the_closed_form_score(gaussian):
    mu, ln_var = gaussian
    k = 5
    g_mu, g_lv = st.likelihood_ratio_gradient(mu, ln_var, quadratic, k, np.random.default_rng(7))
    eps = np.random.default_rng(7).standard_normal((k,) + mu.shape).astype(np.float32)
    z = mu + np.exp(0.5 * ln_var) * eps
    fz = quadratic(z).array[..., None]
    sigma = np.exp(0.5 * ln_var)
    # grad log N: d/dmu = (z - mu) / sigma^2, d/dln_var = ((z - mu)^2 / sigma^2 - 1) / 2
    assert np.allclose(g_mu, (fz * (z - mu) / sigma**2).mean(0), rtol=1e-4, atol=1e-4)
    assert np.allclose(g_lv, (fz * ((z - mu) ** 2 / sigma**2 - 1) / 2).mean(0), rtol=1e-4, atol=1e-4)


def test_variance_ordering_on_a_known_objective(gaussian):
    mu, ln_var = gaussian
    spread = st.gradient_spread(mu, ln_var, quadratic, repeats=150, n_samples=8, seed=3)
    v = {k: s.variance for k, s in spread.items()}
    assert v["reparameterization"] < v["likelihood ratio + baseline"] < v["likelihood ratio"]
    assert all(s.estimates.shape == (150, 24) for s in spread.values())


def test_spread_is_reproducible_from_the_seed(gaussian):
    mu, ln_var = gaussian
    one = st.gradient_spread(mu, ln_var, quadratic, repeats=3, n_samples=2, seed=5)
    two = st.gradient_spread(mu, ln_var, quadratic, repeats=3, n_samples=2, seed=5)
    assert all(np.array_equal(one[k].estimates, two[k].estimates) for k in one)


def test_bad_arguments_are_named(gaussian):
    mu, ln_var = gaussian
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_samples >= 2"):
        st.likelihood_ratio_gradient(mu, ln_var, quadratic, 1, rng, baseline="leave-one-out")
    with pytest.raises(ValueError, match="baseline must be"):
        st.likelihood_ratio_gradient(mu, ln_var, quadratic, 4, rng, baseline="mean")
    with pytest.raises(ValueError, match="shape"):
        st.reparameterization_gradient(mu, ln_var[:2], quadratic, 4, rng)
    with pytest.raises(ValueError, match="positive int"):
        st.reparameterization_gradient(mu, ln_var, quadratic, 0, rng)
    with pytest.raises(ValueError, match="values of shape"):
        st.reparameterization_gradient(mu, ln_var, lambda z: F.sum(z), 4, rng)
    with pytest.raises(TypeError, match="differentiable"):
        st.reparameterization_gradient(mu, ln_var, lambda z: np.zeros((4, 3), np.float32), 4, rng)
    with pytest.raises(ValueError, match="unknown estimator"):
        st.estimate("finite differences", mu, ln_var, quadratic, 4, rng)
    with pytest.raises(ValueError, match="at least 2"):
        st.gradient_spread(mu, ln_var, quadratic, repeats=1, n_samples=4)


def test_vae_learns_real_mnist(shared_home):
    from edgelab.datasets import mnist

    (x_train, _), _ = mnist.load()
    x = mnist.to_float(x_train[:1000]).reshape(-1, 784)
    np.random.seed(0)
    vae = st.VAE(n_hidden=64, n_latent=4)
    opt = chainer.optimizers.Adam(alpha=3e-3)
    opt.setup(vae)
    with chainer.no_backprop_mode():
        first = float(vae(x).array)
    for epoch in range(4):
        for i in range(0, 1000, 100):
            opt.update(vae, x[i:i + 100])
    with chainer.no_backprop_mode():
        last = float(vae(x).array)
    assert last < 0.5 * first
    assert vae.reconstruct(x[:3]).shape == (3, 784)
    samples = vae.sample(5, np.random.default_rng(0))
    assert samples.shape == (5, 784) and 0 <= samples.min() and samples.max() <= 1
    f = vae.log_likelihood(x[:2])
    values = f(chainer.Variable(np.zeros((3, 2, 4), np.float32)))
    assert values.shape == (3, 2) and float(values.array.max()) < 0  # log-likelihoods
    with pytest.raises(ValueError, match="784 pixels"):
        vae(np.zeros((2, 100), np.float32))


def test_standard_error_and_gap_tell_unbiased_from_biased(gaussian):
    mu, ln_var = gaussian
    spread = st.gradient_spread(mu, ln_var, quadratic, repeats=400, n_samples=8, seed=11)
    reparam, baseline = spread["reparameterization"], spread["likelihood ratio + baseline"]
    e = baseline.estimates
    assert baseline.repeats == 400
    assert np.allclose(baseline.standard_error, e.std(axis=0, ddof=1) / np.sqrt(400))
    # both unbiased: gaps behave like |N(0, 1)|, whose median is 0.674
    assert st.HALF_NORMAL_MEDIAN == pytest.approx(0.6745, abs=1e-4)
    gap = st.gap_in_standard_errors(baseline, reparam)
    assert gap.shape == (24,) and 0.3 < np.median(gap) < 1.3
    # a biased estimator (every estimate shifted by 3 of its own standard deviations) stands out
    biased = st.GradientSpread("biased", e + 3 * e.std(axis=0, ddof=1))
    assert np.median(st.gap_in_standard_errors(biased, reparam)) > 10
    with pytest.raises(ValueError, match="different gradients"):
        st.gap_in_standard_errors(biased, st.GradientSpread("short", e[:, :3]))
