"""Notebook 04's exercises: a lazy DatasetMixin, the source's per-head update_core, the
likelihood-ratio surrogate loss, and more samples versus a baseline.

Every checker builds what it compares with from the package (real MNIST images, a fresh
model seeded the same way for the learner's code and for the reference), never from the
notebook's globals.
"""

from __future__ import annotations

import contextlib
import functools
import math
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from edgelab.exercises.core import ____, Exercise, ExerciseError, Mistake


def _d(code: str) -> str:
    """A variant of a solution as the code a learner would run: dedented."""
    return textwrap.dedent(code).strip("\n") + "\n"


def _names_blank(obj) -> bool:
    """True if a function, or a method of a class, still refers to the blank ``____``."""
    def code_names(code):
        yield from code.co_names
        for const in code.co_consts:
            if hasattr(const, "co_names"):
                yield from code_names(const)

    functions = [v for v in vars(obj).values() if callable(v)] if isinstance(obj, type) else [obj]
    return any("____" in code_names(f.__code__) for f in functions if hasattr(f, "__code__"))


def _not_done(what: str) -> ExerciseError:
    return ExerciseError(f"replace ____ in {what} with your code, then run the "
                         "cell again")


# --------------------------------------------------------------------------- 1: dataset

@functools.lru_cache(maxsize=1)
def _mnist_tsv() -> Path:
    """A TSV of 24 MNIST test images exported as PNG files, in a folder of this process."""
    from edgelab.chainer import datasets as chainer_datasets

    folder = Path(tempfile.mkdtemp(prefix="edgelab-ex04-"))
    return chainer_datasets.export_mnist_images(folder, "test", 24, progress=False)


@contextlib.contextmanager
def _counting_reads():
    """Count cv2.imread calls made inside the block (the learner's class calls it)."""
    import cv2

    calls = {"n": 0}
    original = cv2.imread

    def counted(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    cv2.imread = counted
    try:
        yield calls
    finally:
        cv2.imread = original


class LazyDataset(Exercise):
    number = 1
    title = "A lazy dataset of your own"
    answers = ("PngDigits",)
    where = "class"
    minutes = 10
    starter = '''
    import cv2


    class PngDigits(chainer.dataset.DatasetMixin):
        """MNIST digits listed in a TSV (file<TAB>label), decoded only when an example is asked for."""

        def __init__(self, tsv):
            self.rows = chainer_datasets.read_tsv(tsv)   # each row has .path (a Path) and .label (an int)

        def __len__(self):
            return len(self.rows)

        def get_example(self, i):
            row = self.rows[i]
            image = ____   # (1, 28, 28) float32 in [0, 1], read from row.path with cv2.imread(..., cv2.IMREAD_GRAYSCALE)
            return image, np.int32(row.label)
    '''
    hint = """
    `cv2.imread(str(row.path), cv2.IMREAD_GRAYSCALE)` gives a (28, 28) uint8 array. Chainer's
    convolutions want channels first, so add the channel axis in front (`[None]`), then
    convert to float32 and divide by 255."""
    solution = '''
    import cv2


    class PngDigits(chainer.dataset.DatasetMixin):
        """MNIST digits listed in a TSV (file<TAB>label), decoded only when an example is asked for."""

        def __init__(self, tsv):
            self.rows = chainer_datasets.read_tsv(tsv)

        def __len__(self):
            return len(self.rows)

        def get_example(self, i):
            row = self.rows[i]
            image = cv2.imread(str(row.path), cv2.IMREAD_GRAYSCALE)[None].astype(np.float32) / 255
            return image, np.int32(row.label)
    '''
    explanation = """
    `DatasetMixin` turns `get_example(i)` into indexing and slicing, so `SerialIterator`,
    `MultiprocessIterator` and `concat_examples` work with your class unchanged. Keeping
    only the list of rows in `__init__` and decoding in `get_example` is what makes it lazy:
    memory holds one batch of images at a time, and `MultiprocessIterator` can decode in
    worker processes. `TsvImageDataset` is the same idea with resizing, colour and error
    messages that name the row; the checker compares your examples with its."""
    messages = {
        "passed": "right: {n} examples, each a (1, 28, 28) float32 image in [0, 1] and an int32 "
                  "label, equal to TsvImageDataset's; a batch of 4 stacks to {batch}; nothing was "
                  "decoded before an example was asked for",
        "not_class": "PngDigits should be a class (a chainer.dataset.DatasetMixin subclass); got "
                     "{kind}",
        "eager": "your dataset decoded {reads} images while it was being built: decode in "
                 "get_example, so that only the list of rows is in memory",
        "channels_last": "your image has shape {shape}: channels last. Chainer's convolutions expect "
                         "(channels, height, width) = (1, 28, 28)",
        "no_channel": "your image has shape {shape}: add the channel axis in front, (1, 28, 28)",
        "scale": "your pixels go up to {high:.0f}: divide by 255 so they lie in [0, 1]",
        "dtype": "your image is {dtype}; Chainer's links hold float32 weights, so give float32",
        "values": "your pixels differ from the PNG's (largest difference {diff:.3g}): read the file of "
                  "row i in grayscale, without resizing",
        "label": "the label of example {i} is {got!r}; expected np.int32({want})",
    }
    mistakes = [
        Mistake(_d(solution.replace("[None].astype(np.float32) / 255",
                                    "[:, :, None].astype(np.float32) / 255")),
                "channels_last", "(28, 28, 1): channels last"),
        Mistake(_d(solution.replace("[None].astype(np.float32) / 255", "[None].astype(np.float32)")),
                "scale", "not divided by 255"),
        Mistake('''
import cv2


class PngDigits(chainer.dataset.DatasetMixin):
    def __init__(self, tsv):
        self.rows = chainer_datasets.read_tsv(tsv)
        self.images = [cv2.imread(str(r.path), cv2.IMREAD_GRAYSCALE)[None].astype(np.float32) / 255
                       for r in self.rows]

    def __len__(self):
        return len(self.rows)

    def get_example(self, i):
        return self.images[i], np.int32(self.rows[i].label)
''', "eager", "decodes every image in __init__"),
    ]

    def verify(self, PngDigits):
        import chainer

        from edgelab.chainer import datasets as chainer_datasets

        if not isinstance(PngDigits, type):
            return self.wrong("not_class", kind=type(PngDigits).__name__)
        if _names_blank(PngDigits):
            raise _not_done("`image = ____`")
        tsv = _mnist_tsv()
        with _counting_reads() as reads:
            dataset = PngDigits(tsv)
        if reads["n"]:
            return self.wrong("eager", reads=reads["n"])
        reference = chainer_datasets.TsvImageDataset(tsv, channels=1)
        for i in (0, 7, len(reference) - 1):
            image, label = dataset[i]
            if image is ____:
                raise ExerciseError("replace ____ in `image = ____` with the decoded "
                                    "image, then run the cell again")
            image = np.asarray(image)
            want, want_label = reference[i]
            if image.shape == (28, 28, 1):
                return self.wrong("channels_last", shape=image.shape)
            if image.shape == (28, 28):
                return self.wrong("no_channel", shape=image.shape)
            if image.max() > 1.0:
                return self.wrong("scale", high=float(image.max()))
            if image.dtype != np.float32:
                return self.wrong("dtype", dtype=image.dtype)
            if image.shape != want.shape or not np.allclose(image, want, atol=1e-6):
                diff = float(np.abs(image - want).max()) if image.shape == want.shape else math.inf
                return self.wrong("values", diff=diff)
            if not isinstance(label, np.int32) or int(label) != int(want_label):
                return self.wrong("label", i=i, got=label, want=int(want_label))
        x, t = chainer.dataset.concat_examples(dataset[:4])
        return self.passed(n=len(dataset), batch=f"{x.shape} {x.dtype} and {t.shape} {t.dtype}")


# --------------------------------------------------------------------------- 2: update_core

@functools.lru_cache(maxsize=1)
def _digits_batches(n: int = 48):
    """(x, digit, parity, over4) examples from the first n MNIST training images."""
    import chainer

    from edgelab.chainer import multihead
    from edgelab.datasets import mnist

    (x_train, y_train), _ = mnist.load()
    x = mnist.to_float(x_train[:n]).reshape(-1, 1, 28, 28)
    return chainer.datasets.TransformDataset(
        chainer.datasets.TupleDataset(x, y_train[:n].astype(np.int32)), multihead.DigitTasks())


def _run_updater(updater_class, updates: int, frozen=()) -> dict[str, np.ndarray]:
    import chainer

    from edgelab.chainer import multihead

    np.random.seed(0)
    model = multihead.build_model()
    batches = chainer.iterators.SerialIterator(_digits_batches(), 16, shuffle=False)
    updater = updater_class(batches, model, multihead.make_optimizers(model), device="@numpy",
                            frozen=frozen)
    for _ in range(updates):
        updater.update()
    return {path: p.array.copy() for path, p in model.namedparams()}


def _variant(kind: str):
    """The package's updater, and the wrong per-head variants the checker recognises."""
    import chainer.functions as F

    from edgelab.chainer.updaters import MultiHeadUpdater

    class Variant(MultiHeadUpdater):
        def update_core(self):
            x, *labels = self.converter(self.get_iterator("main").next(), self.input_device)
            if kind != "no_clear":
                self.model.cleargrads()
            features = self.model.trunk(x)
            for name, t in zip(self.model.head_names, labels):
                if kind == "clear_each":
                    self.model.cleargrads()
                F.softmax_cross_entropy(self.model.heads[name](features), t).backward()
                if kind == "update_each":
                    self.get_optimizer("trunk").update()
            for name, optimizer in self.get_all_optimizers().items():
                if name not in self.frozen and not (kind == "update_each" and name == "trunk"):
                    optimizer.update()

    return Variant


@functools.lru_cache(maxsize=None)
def _reference_parameters(kind: str, updates: int):
    if kind == "package":
        from edgelab.chainer.updaters import MultiHeadUpdater

        return _run_updater(MultiHeadUpdater, updates, frozen=("parity",))
    return _run_updater(_variant(kind), updates, frozen=("parity",))


def _same(a: dict, b: dict, atol: float = 1e-5) -> bool:
    return a.keys() == b.keys() and all(np.allclose(a[k], b[k], atol=atol) for k in a)


class PerHeadBackward(Exercise):
    number = 2
    title = "The source's update_core: one backward pass per head"
    answers = ("PerHeadUpdater",)
    where = "class"
    minutes = 15
    starter = '''
    class PerHeadUpdater(MultiHeadUpdater):
        """The source's way: backpropagate each head's loss on its own, then update every part."""

        def update_core(self):
            x, *labels = self.converter(self.get_iterator("main").next(), self.input_device)
            ____   # clear the gradients, run the trunk once, one backward() per head, update the parts
    '''
    hint = """
    Clear every gradient once (`self.model.cleargrads()`), compute
    `features = self.model.trunk(x)`, then for each head name and its labels call
    `F.softmax_cross_entropy(self.model.heads[name](features), t).backward()`. Gradients add
    up in Chainer until the next `cleargrads()`, so the trunk collects all three. Then call
    `update()` on every optimizer that is not in `self.frozen`."""
    solution = '''
    class PerHeadUpdater(MultiHeadUpdater):
        """The source's way: backpropagate each head's loss on its own, then update every part."""

        def update_core(self):
            x, *labels = self.converter(self.get_iterator("main").next(), self.input_device)
            self.model.cleargrads()
            features = self.model.trunk(x)
            for name, t in zip(self.model.head_names, labels):
                F.softmax_cross_entropy(self.model.heads[name](features), t).backward()
            for name, optimizer in self.get_all_optimizers().items():
                if name in self.frozen:
                    continue                      # a frozen part keeps its weights
                optimizer.update()
    '''
    explanation = """
    Chainer accumulates gradients: every `backward()` adds to `.grad` until `cleargrads()`
    resets it. Three backward passes, one per head, therefore leave the trunk with the sum
    of the three heads' gradients, exactly what one backward pass of the summed loss gives
    (the notebook's `update_core`), at the price of going through the trunk three times.
    The two classic slips are clearing between the heads (the trunk then learns from the
    last head only) and not clearing at all (Chainer starts every gradient as NaN until the
    first `cleargrads()`, precisely so that this slip cannot go unnoticed). The checker trains your updater and the package's for three steps from the
    same start, with the parity head frozen, and compares every parameter."""
    messages = {
        "passed": "right: after 3 updates from the same start every parameter equals the package's "
                  "MultiHeadUpdater (summed loss, one backward pass), to 1e-5",
        "not_class": "PerHeadUpdater should be a class (a MultiHeadUpdater subclass); got {kind}",
        "nothing": "update_core changed no parameter: it has to call backward() and the "
                   "optimizers' update()",
        "clear_each": "the trunk learned from the last head only: clearing the gradients between the "
                      "heads' backward passes throws away what the heads before sent it. Clear once, "
                      "before the first backward()",
        "no_clear": "your parameters became NaN after the first update: Chainer fills a new "
                    "parameter's gradient with NaN until cleargrads() is called, so that a missing "
                    "cleargrads() shows at once (and without it each step would add the previous "
                    "steps' gradients). Clear every part's gradients at the start of update_core",
        "update_each": "the trunk moved three times per batch: its optimizer's update() belongs after "
                       "the loop over the heads, once",
        "frozen": "the frozen parity head changed: skip the update() of optimizers named in "
                  "self.frozen",
        "different": "after 3 updates your parameters differ from the package's ({where}); compare "
                     "your update_core with the notebook's step by step",
    }
    mistakes = [
        Mistake(_d(solution.replace("""            for name, t in zip(self.model.head_names, labels):
                F.softmax_cross_entropy""", """            for name, t in zip(self.model.head_names, labels):
                self.model.cleargrads()
                F.softmax_cross_entropy""")), "clear_each", "clears between the heads"),
        Mistake(_d(solution.replace("            self.model.cleargrads()\n", "")), "no_clear",
                "never clears the gradients"),
        Mistake(_d(solution.replace(
            """                F.softmax_cross_entropy(self.model.heads[name](features), t).backward()
            for name, optimizer in self.get_all_optimizers().items():
                if name in self.frozen:""",
            """                F.softmax_cross_entropy(self.model.heads[name](features), t).backward()
                self.get_optimizer("trunk").update()
            for name, optimizer in self.get_all_optimizers().items():
                if name in self.frozen or name == "trunk":""")), "update_each",
                "updates the trunk after every head"),
    ]

    def verify(self, PerHeadUpdater):
        from chainer.training.updaters import StandardUpdater

        from edgelab.chainer.updaters import MultiHeadUpdater

        if not isinstance(PerHeadUpdater, type) or not issubclass(PerHeadUpdater, StandardUpdater):
            return self.wrong("not_class", kind=getattr(PerHeadUpdater, "__name__",
                                                        type(PerHeadUpdater).__name__))
        if _names_blank(PerHeadUpdater):
            raise _not_done("update_core")
        start = _run_updater(MultiHeadUpdater, 0)
        one = _run_updater(PerHeadUpdater, 1, frozen=("parity",))
        if _same(one, start, atol=0):
            raise ExerciseError("replace ____ in update_core with your code, then run "
                                "the cell again")
        if any(np.isnan(v).any() for v in one.values()):
            return self.wrong("no_clear")
        three = _run_updater(PerHeadUpdater, 3, frozen=("parity",))
        if _same(three, _reference_parameters("package", 3)):
            return self.passed()
        parity = [k for k in three if k.startswith("/parity/")]
        if any(not np.allclose(three[k], start[k], atol=0) for k in parity):
            return self.wrong("frozen")
        for kind in ("clear_each", "update_each"):
            if _same(three, _reference_parameters(kind, 3)):
                return self.wrong(kind)
        ref = _reference_parameters("package", 3)
        where = ", ".join(k for k in ref if not np.allclose(three[k], ref[k], atol=1e-5))[:120]
        return self.wrong("different", where=where)


# --------------------------------------------------------------------------- 3: REINFORCE

@functools.lru_cache(maxsize=1)
def _vae_batch():
    from edgelab.datasets import mnist

    _, (x_test, _) = mnist.load()
    x = mnist.to_float(x_test[:16]).reshape(-1, 784)
    eps = np.random.default_rng(4).standard_normal((16, 8)).astype(np.float32)
    return x, eps


def _gradients(loss_fn) -> dict[str, np.ndarray]:
    """Gradients of loss_fn(vae, x, eps) for a freshly seeded VAE, per parameter."""
    from edgelab.chainer import stochastic

    np.random.seed(1)
    vae = stochastic.VAE(n_latent=8)
    x, eps = _vae_batch()
    vae.cleargrads()
    loss = loss_fn(vae, x, eps)
    loss.backward()
    return {path: (p.grad.copy() if p.grad is not None else np.zeros_like(p.array))
            for path, p in vae.namedparams()}


def _reference_reinforce(sign: float = 1.0, detach: bool = True, kl: bool = True):
    import chainer.functions as F

    from edgelab.chainer import stochastic

    def loss_fn(vae, x, eps):
        mu, ln_var = vae.encode(x)
        z = mu.array + np.exp(0.5 * ln_var.array) * eps
        rec = F.sum(F.bernoulli_nll(x, vae.decode(z), reduce="no"), axis=1)
        log_q = stochastic.gaussian_log_density(z, mu, ln_var)
        weight = rec.array if detach else rec
        total = rec + sign * weight * log_q
        if kl:
            total = total + F.sum(F.gaussian_kl_divergence(mu, ln_var, reduce="no"), axis=1)
        return F.mean(total)

    return loss_fn


@functools.lru_cache(maxsize=None)
def _reference_gradients(kind: str) -> dict[str, np.ndarray]:
    options = {"right": {}, "sign": {"sign": -1.0}, "attached": {"detach": False},
               "no_kl": {"kl": False}}[kind]
    return _gradients(_reference_reinforce(**options))


def _encoder(grads):
    return {k: v for k, v in grads.items() if k.startswith("/enc")}


def _decoder(grads):
    return {k: v for k, v in grads.items() if k.startswith("/dec")}


class Reinforce(Exercise):
    number = 3
    title = "The likelihood-ratio gradient as a surrogate loss"
    answers = ("reinforce_loss",)
    where = "home"
    minutes = 20
    starter = '''
    def reinforce_loss(vae, x, eps):
        """The VAE's negative ELBO, but the encoder learns E[rec] through the likelihood ratio, not through z."""
        mu, ln_var = vae.encode(x)
        z = mu.array + np.exp(0.5 * ln_var.array) * eps            # a sample held constant: no path back
        rec = F.sum(F.bernoulli_nll(x, vae.decode(z), reduce="no"), axis=1)    # -log p(x|z), per image
        kl = F.sum(F.gaussian_kl_divergence(mu, ln_var, reduce="no"), axis=1)  # KL(q || N(0, I)), per image
        log_q = stochastic.gaussian_log_density(z, mu, ln_var)      # log q(z|x), per image; reaches mu, ln_var
        surrogate = ____   # a term whose gradient w.r.t. mu and ln_var is the likelihood-ratio estimate of d E[rec]
        return F.mean(rec + kl + surrogate)
    '''
    hint = """
    The likelihood-ratio estimate of the gradient of `E_q[rec]` is `rec * grad log q(z)`,
    with `rec` a number, not a function of the parameters. A term whose gradient is that
    is `rec * log_q` where `rec` is held constant: `rec.array` (in PyTorch, `rec.detach()`).
    `rec` is a loss, to be made smaller, and so is the surrogate: no minus sign."""
    solution = '''
    def reinforce_loss(vae, x, eps):
        """The VAE's negative ELBO, but the encoder learns E[rec] through the likelihood ratio, not through z."""
        mu, ln_var = vae.encode(x)
        z = mu.array + np.exp(0.5 * ln_var.array) * eps
        rec = F.sum(F.bernoulli_nll(x, vae.decode(z), reduce="no"), axis=1)
        kl = F.sum(F.gaussian_kl_divergence(mu, ln_var, reduce="no"), axis=1)
        log_q = stochastic.gaussian_log_density(z, mu, ln_var)
        surrogate = rec.array * log_q
        return F.mean(rec + kl + surrogate)
    '''
    explanation = """
    With `z` held constant, `rec` reaches only the decoder; the encoder gets its gradient
    from `rec.array * log_q`, whose derivative is the likelihood-ratio (REINFORCE) estimate
    `rec * grad log q(z)`, plus the KL term's exact gradient. The value of the surrogate
    means nothing; only its gradient does. Holding `rec` constant is what keeps this the
    likelihood-ratio estimate: without it the decoder would also receive
    `log_q * grad rec`, a gradient of nothing the model optimises. To see the variance for yourself, train a copy of the VAE for an epoch with
    this loss (a `StandardUpdater` with `loss_func=` a function that draws `eps` and calls
    it) and compare its validation ELBO with the reparameterized VAE's; subtracting a
    baseline from `rec.array` (the mean over the batch, say) is the variance fix of section 3."""
    messages = {
        "passed": "right: your loss gives the encoder the likelihood-ratio gradient and the decoder "
                  "the plain gradient of rec, to 1e-4",
        "not_function": "reinforce_loss should be a function (vae, x, eps) -> a Chainer loss; got {kind}",
        "scalar": "reinforce_loss should return one number (a 0-d chainer.Variable), got shape {shape}",
        "sign": "your encoder's gradient points the wrong way: rec is a loss to make smaller, so the "
                "surrogate is +rec * log_q, with no minus sign",
        "attached": "your decoder's gradient is off: rec must be a constant inside the surrogate "
                    "(rec.array, as f.detach() in PyTorch); otherwise the decoder also gets "
                    "log_q * grad rec",
        "no_kl": "the KL term is missing from your loss: the encoder's gradient lacks d KL / d (mu, "
                 "ln_var)",
        "different": "your gradients differ from the likelihood-ratio surrogate's (encoder off by up "
                     "to {enc:.3g}, decoder by up to {dec:.3g})",
    }
    mistakes = [
        Mistake(_d(solution.replace("surrogate = rec.array * log_q", "surrogate = -rec.array * log_q")),
                "sign", "a minus sign (maximising what should be minimised)"),
        Mistake(_d(solution.replace("surrogate = rec.array * log_q", "surrogate = rec * log_q")),
                "attached", "rec not held constant"),
    ]

    def verify(self, reinforce_loss):
        import chainer

        if not callable(reinforce_loss):
            return self.wrong("not_function", kind=type(reinforce_loss).__name__)
        if _names_blank(reinforce_loss):
            raise _not_done("`surrogate = ____`")
        x, eps = _vae_batch()
        from edgelab.chainer import stochastic

        np.random.seed(1)
        probe = reinforce_loss(stochastic.VAE(n_latent=8), x, eps)
        if not isinstance(probe, chainer.Variable) or probe.size != 1:
            return self.wrong("scalar", shape=getattr(probe, "shape", type(probe).__name__))
        got = _gradients(reinforce_loss)

        def gap(a, b):
            return max(float(np.abs(a[k] - b[k]).max()) for k in a)

        def same(a, b):
            return all(np.allclose(a[k], b[k], rtol=1e-3, atol=1e-4) for k in a)

        right = _reference_gradients("right")
        if same(got, right):
            return self.passed()
        for kind in ("sign", "attached", "no_kl"):
            if same(got, _reference_gradients(kind)):
                return self.wrong(kind)
        return self.wrong("different", enc=gap(_encoder(got), _encoder(right)),
                          dec=gap(_decoder(got), _decoder(right)))


# --------------------------------------------------------------------------- 4: samples

class SamplesOrBaseline(Exercise):
    number = 4
    title = "More samples or a baseline?"
    answers = ("variance", "baseline_variance", "samples_needed")
    where = "class"
    minutes = 10
    starter = '''
    variance = {}
    for n in (2, 8, 32, 128):   # likelihood ratio without a baseline, n samples per estimate
        spread_n = stochastic.gradient_spread(mu, ln_var, f, repeats=S.variance_samples, n_samples=n,
                                              seed=lab.seed, names=["likelihood ratio"])
        variance[n] = spread_n["likelihood ratio"].variance
    baseline_variance = spread["likelihood ratio + baseline"].variance   # with a baseline, 8 samples
    samples_needed = ____   # how many samples would the estimator without a baseline need to match it?
    '''
    hint = """
    An estimate that averages `n` independent samples has `1/n` of one sample's variance,
    so `n * variance[n]` is about the same for every `n` (check it). The number of samples
    that brings the variance down to `baseline_variance` is that product divided by
    `baseline_variance`."""
    solution = '''
    variance = {}
    for n in (2, 8, 32, 128):
        spread_n = stochastic.gradient_spread(mu, ln_var, f, repeats=S.variance_samples, n_samples=n,
                                              seed=lab.seed, names=["likelihood ratio"])
        variance[n] = spread_n["likelihood ratio"].variance
    baseline_variance = spread["likelihood ratio + baseline"].variance
    per_sample = np.mean([n * v for n, v in variance.items()])   # n x variance: about constant
    samples_needed = per_sample / baseline_variance
    '''
    explanation = """
    Without a baseline every sample's weight is `f(z)`, a large negative number, and the
    estimator's variance falls only as `1/n`. With the leave-one-out baseline, 8 samples
    reach a variance that plain averaging would need hundreds or thousands of samples for
    (the exact number depends on the run: the checker computes it from your variances). A
    baseline costs nothing extra to compute; samples cost a decoder pass each. That is why
    every practical REINFORCE has a baseline, and why the reparameterization gradient,
    where it exists, is preferred over both."""
    messages = {
        "passed": "right: n x variance stays near {per_sample:.3g} (from {low:.3g} to {high:.3g}), "
                  "so matching the baseline's {baseline:.3g} takes about {needed:,.0f} samples, "
                  "{ratio:.0f} times the 8 the baseline uses",
        "keys": "variance should have the keys 2, 8, 32 and 128 (one per n_samples); it has "
                "{keys}",
        "constant_n": "your four variances are nearly the same ({values}): pass n_samples=n to "
                      "gradient_spread, so that each entry uses its own number of samples",
        "scaling": "n x variance should stay about constant, but it ranges from {low:.3g} to "
                   "{high:.3g}: did every run use the plain likelihood ratio (no baseline)?",
        "ratio_only": "{got:,.0f} is how many times larger the variance is without the baseline at "
                      "8 samples; those 8 samples are already in it: multiply by 8 (or use n x "
                      "variance)",
        "largest": "{got:,.0f} is the largest n you tried, and its variance ({v128:.3g}) is still "
                   "{times:.0f} times the baseline's; extrapolate with n x variance instead",
        "off": "samples_needed = {got:,.4g}; from your own variances it should be about {needed:,.0f} "
               "(n x variance / baseline_variance)",
    }
    mistakes = [
        Mistake(_d(solution.replace("samples_needed = per_sample / baseline_variance",
                                    "samples_needed = variance[8] / baseline_variance")),
                "ratio_only", "the variance ratio at 8 samples, not a number of samples"),
        Mistake(_d(solution.replace("n_samples=n,", "n_samples=8,").replace(
            "samples_needed = per_sample / baseline_variance",
            "samples_needed = 8 * variance[8] / baseline_variance")),
                "constant_n", "n not passed: every run uses 8 samples"),
    ]

    def verify(self, variance, baseline_variance, samples_needed):
        if samples_needed is ____:
            raise ExerciseError("replace ____ in `samples_needed = ____` with your "
                                "answer, then run the cell again")
        if not isinstance(variance, dict) or sorted(variance) != [2, 8, 32, 128]:
            keys = sorted(variance) if isinstance(variance, dict) else type(variance).__name__
            return self.wrong("keys", keys=keys)
        values = {n: float(v) for n, v in variance.items()}
        if max(values.values()) < 1.5 * min(values.values()):
            return self.wrong("constant_n", values=", ".join(f"{v:.3g}" for v in values.values()))
        products = [n * v for n, v in values.items()]
        low, high = min(products), max(products)
        if high > 2.0 * low:
            return self.wrong("scaling", low=low, high=high)
        per_sample = float(np.mean(products))
        baseline = float(baseline_variance)
        needed = per_sample / baseline
        got = float(samples_needed)
        if abs(got - values[8] / baseline) < 0.05 * values[8] / baseline:
            return self.wrong("ratio_only", got=got)
        if got == 128 and needed > 256:
            return self.wrong("largest", got=got, v128=values[128], times=values[128] / baseline)
        if not 0.67 * needed <= got <= 1.5 * needed:
            return self.wrong("off", got=got, needed=needed)
        return self.passed(per_sample=per_sample, low=low, high=high, baseline=baseline,
                           needed=needed, ratio=needed / 8)
