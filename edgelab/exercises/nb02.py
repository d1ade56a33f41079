"""Notebook 02's exercises: the paper's head against the lesson's, AdamW's decoupled weight
decay against L2, timing the train step with and without XLA, and the two classes the
embeddings mix up most.

Each checker takes the learner's objects (trainers, the validation batches, timings,
embeddings) and computes what it compares them with itself: predictions of the trainers it
is given on the batches it is given, a paired comparison of two models on the same images,
nearest neighbours in the embedding. Nothing is read from the notebook's globals.
"""

from __future__ import annotations

import json
import math

import numpy as np

from edgelab.exercises.core import ____, Exercise, ExerciseError, Mistake  # noqa: F401


def _trainer(obj, name: str):
    if not (hasattr(obj, "model") and hasattr(obj, "train_step") and hasattr(obj, "history")):
        raise ExerciseError(f"{name} should be a trainer (training.make_trainer(...)), got "
                            f"{type(obj).__name__}")
    return obj


def _config(model) -> dict:
    from edgelab.xception.model import _plain

    return json.loads(json.dumps(_plain(getattr(model, "config", {})), default=str))


def _epochs(trainer) -> int:
    return len(trainer.history.get("loss", []))


def paired(trainer_a, trainer_b, dataset) -> dict:
    """Accuracy of two trainers' models on the same images, their difference and its paired
    standard error (from the images exactly one of them gets right)."""
    logits_a, labels = trainer_a.predict(dataset)
    logits_b, labels_b = trainer_b.predict(dataset)
    if not np.array_equal(labels, labels_b):
        raise ExerciseError("the two models saw different images: pass the same val_ds")
    right_a, right_b = logits_a.argmax(1) == labels, logits_b.argmax(1) == labels
    n = len(labels)
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    diff = (only_a - only_b) / n
    se = math.sqrt(max(only_a + only_b - (only_a - only_b) ** 2 / n, 0.0)) / n
    if only_a + only_b == 0:
        verdict = "verdict_same"
    elif abs(diff) < 2 * se:
        verdict = "verdict_noise"
    else:
        verdict = "verdict_shown"
    return dict(n=n, acc_a=float(right_a.mean()), acc_b=float(right_b.mean()), diff=diff, se=se,
                only_a=only_a, only_b=only_b, verdict=verdict)


# --------------------------------------------------------------------------- 1

class PaperHead(Exercise):
    number = 1
    title = "The paper's head against the lesson's"
    answers = ("paper_trainer", "trainer", "val_ds")
    where = "class"
    minutes = 10
    starter = '''
    val_ds = data["val"]
    paper_trainer = ____   # a Trainer of the paper's head at this profile's sizes, trained like the lesson's
    '''
    hint = """
    `xception.Xception(len(class_names), widths=xception.Widths().scaled(S.width_multiplier),
    middle_blocks=S.middle_blocks, head="paper", image_size=S.image_size, ...)`, then a
    trainer, its own checkpoint manager, `restore` and `fit` as in section 8 (the folder
    name differs by itself: the head is part of the configuration)."""
    solution = '''
    val_ds = data["val"]
    paper_model = xception.Xception(len(class_names),
                                    widths=xception.Widths().scaled(S.width_multiplier),
                                    middle_blocks=S.middle_blocks, head="paper",
                                    compute_dtype=compute_dtype, image_size=S.image_size)
    paper_trainer = training.make_trainer(paper_model, S, step_fn=train_step)
    paper_manager = paper_trainer.checkpoint_manager(checkpoint_root, batch_size=S.batch_size,
                                                     seed=lab.seed)
    paper_trainer.restore(paper_manager)
    paper_trainer.fit(data["train"], S.epochs, val_ds=val_ds, manager=paper_manager,
                      desc="paper head")
    '''
    explanation = """
    The paper's head is global average pooling and the classifier; the lesson's (the
    source's) adds a 256-unit dense layer with dropout in between (the check prints both
    models' parameter counts). Whether the extra weights help is
    a question for the validation split, and for two models scored on the same images the
    fair comparison is paired: what matters is how many images one gets right and the
    other wrong. With 340 validation images a difference of a few points is often within
    the noise; the check prints the difference with its standard error instead of a
    verdict from one number."""
    messages = {
        "passed": "right: the paper's head ({params_b:,d} parameters) reaches {acc_b:.3f} on the {n} "
                  "validation images, the lesson's ({params_a:,d}) {acc_a:.3f}. The lesson's head is "
                  "{diff:+.3f} ± {se:.3f} (paired standard error: {only_a} images only it gets right, "
                  "{only_b} only the paper's head): {verdict}",
        "verdict_same": "the two models are right on exactly the same images",
        "verdict_noise": "within twice its standard error: no difference these images can show",
        "verdict_shown": "more than twice its standard error: a difference these images do show",
        "head": "your paper_trainer's model has the {head!r} head; build it with head=\"paper\"",
        "size": "your paper-head model differs from the lesson's in more than its head: {what}. "
                "Compare like with like: widths=xception.Widths().scaled(S.width_multiplier), "
                "middle_blocks=S.middle_blocks, image_size=S.image_size",
        "epochs": "your paper-head trainer has trained {got} epoch(s), the lesson's {want}: fit it "
                  "as long (paper_trainer.fit(data[\"train\"], S.epochs, ...)) before comparing",
    }
    mistakes = [
        Mistake('''
val_ds = data["val"]
paper_trainer = training.make_trainer(xception.Xception(len(class_names), head="paper"), S)
''', "size", "the paper's full widths and 8 middle blocks (20.8M parameters, hours on a CPU)"),
        Mistake('''
val_ds = data["val"]
paper_model = xception.Xception(len(class_names), widths=xception.Widths().scaled(S.width_multiplier),
                                middle_blocks=S.middle_blocks, head="paper",
                                compute_dtype=compute_dtype, image_size=S.image_size)
paper_trainer = training.make_trainer(paper_model, S, step_fn=train_step)
''', "epochs", "built but never trained"),
        Mistake('''
val_ds = data["val"]
paper_trainer = training.make_trainer(training.build_flowers_model(S, compute_dtype), S)
paper_trainer.fit(data["train"], S.epochs, val_ds=val_ds, desc="paper head?")
''', "head", "the lesson's model again (head='lesson')"),
    ]

    def verify(self, paper_trainer, trainer, val_ds):
        from edgelab.xception.model import trainable_parameters

        paper_trainer, trainer = _trainer(paper_trainer, "paper_trainer"), _trainer(trainer, "trainer")
        head = getattr(paper_trainer.model, "head_kind", None)
        if head != "paper":
            return self.wrong("head", head=head)
        mine, theirs = _config(paper_trainer.model), _config(trainer.model)
        differ = [f"{k} {mine.get(k)} instead of {theirs.get(k)}"
                  for k in ("widths", "middle_blocks", "image_size") if mine.get(k) != theirs.get(k)]
        if differ:
            return self.wrong("size", what="; ".join(differ))
        if _epochs(paper_trainer) < _epochs(trainer):
            return self.wrong("epochs", got=_epochs(paper_trainer), want=_epochs(trainer))
        cmp = paired(trainer, paper_trainer, val_ds)
        cmp["verdict"] = self.fragment(cmp["verdict"])
        return self.passed(**cmp, params_a=trainable_parameters(trainer.model),
                           params_b=trainable_parameters(paper_trainer.model))


# --------------------------------------------------------------------------- 2

def _shrink(trainer, decay: float, steps: int) -> float:
    """How much decoupled decay shrinks a kernel over ``steps`` steps of the trainer's
    schedule, as a fraction (0.01 = 1 %), Adam's updates aside."""
    rates = trainer.schedule.values(range(steps))
    return float(1.0 - np.prod(1.0 - rates * decay))


def _kernel_rms(model) -> float:
    from edgelab.xception.training import kernels

    values = np.concatenate([np.ravel(v.numpy()) for v in kernels(model)])
    return float(np.sqrt(np.mean(values ** 2)))


class AdamW(Exercise):
    number = 2
    title = "AdamW: decoupled weight decay"
    answers = ("adamw_trainer", "trainer", "val_ds")
    where = "class"
    minutes = 15
    starter = '''
    val_ds = data["val"]
    adamw_trainer = ____   # a fresh lesson model trained with decoupled weight decay instead of L2
    '''
    hint = """
    `training.make_trainer(model, S, weight_decay=0.0, decoupled_weight_decay=...)`: the
    first switches the L2 term off, the second shrinks every kernel by
    `learning_rate * decoupled_weight_decay` after each Adam update. Its value is not the L2
    coefficient's: PyTorch's AdamW defaults to 0.01, and ImageNet recipes use up to 0.05.
    Then a checkpoint manager, `restore` and `fit`, as in section 8."""
    solution = '''
    val_ds = data["val"]
    adamw_model = training.build_flowers_model(S, compute_dtype)
    adamw_trainer = training.make_trainer(adamw_model, S, step_fn=train_step, weight_decay=0.0,
                                          decoupled_weight_decay=0.05)
    adamw_manager = adamw_trainer.checkpoint_manager(checkpoint_root, batch_size=S.batch_size,
                                                     seed=lab.seed)
    adamw_trainer.restore(adamw_manager)
    adamw_trainer.fit(data["train"], S.epochs, val_ds=val_ds, manager=adamw_manager, desc="AdamW")
    '''
    explanation = """
    With L2 in the loss, the decay's gradient `wd * w` goes through Adam's per-weight
    scaling: a weight whose loss gradient is large and noisy is divided by a large root
    and hardly decays, a quiet one decays fast. AdamW (Loshchilov & Hutter, "Decoupled
    Weight Decay Regularization", 2019) takes the decay out of the gradient: Adam updates
    from the loss alone, then every kernel shrinks by the same factor. Here the factor is
    `1 - learning_rate * wd` per step, the convention of PyTorch's and Keras' AdamW (the
    paper multiplies `wd` by the schedule's multiplier instead of the learning rate). So
    the two coefficients are not on the same scale: 1e-4, the L2 value, barely moves the
    kernels in a decoupled decay. Over the quick profile's 210 steps even 0.05 shrinks
    them by under 1%, and in this curriculum's own quick run the two validation
    accuracies were within twice their paired standard error (the check prints yours);
    the full profile's thousands of steps are where the two can part."""
    messages = {
        "passed": "right: decoupled decay {wd:g} shrinks the kernels by {shrink:.2%} over the run "
                  "({steps} steps), on top of Adam. Kernels' RMS: {rms_b:.4f} with AdamW, {rms_a:.4f} "
                  "with L2 {l2:g}. Validation accuracy: {acc_b:.3f} with AdamW, {acc_a:.3f} with L2; "
                  "L2 is {diff:+.3f} ± {se:.3f} (paired, {n} images): {verdict}",
        "verdict_same": "the two models are right on exactly the same images",
        "verdict_noise": "within twice its standard error: no difference these images can show",
        "verdict_shown": "more than twice its standard error: a difference these images do show",
        "both": "your trainer adds the L2 term (weight_decay={l2:g}) and decays decoupled "
                "({wd:g}) as well: that is two decays, not AdamW. Pass weight_decay=0.0",
        "none": "your trainer decays nothing: weight_decay and decoupled_weight_decay are both 0 "
                "(the source's mistake, in another form). Set decoupled_weight_decay",
        "l2": "this is the lesson's L2 trainer again (weight_decay={l2:g}, no decoupled decay): pass "
              "weight_decay=0.0 and decoupled_weight_decay=...",
        "tiny": "decoupled decay {wd:g} barely decays: each step multiplies a kernel by "
                "1 - learning_rate x {wd:g}, never below 1 - {per_step:.1e}, so this run ({steps} steps) "
                "shrinks it by {shrink:.4%}. The L2 coefficient lives on another scale; decoupled "
                "values are around 0.01 to 0.05",
        "epochs": "your AdamW trainer has trained {got} epoch(s), the lesson's {want}: fit it as "
                  "long before comparing",
    }
    mistakes = [
        Mistake('''
val_ds = data["val"]
adamw_trainer = training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                      step_fn=train_step, decoupled_weight_decay=0.05)
''', "both", "decoupled decay added, the L2 term left on"),
        Mistake('''
val_ds = data["val"]
adamw_trainer = training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                      step_fn=train_step, weight_decay=0.0,
                                      decoupled_weight_decay=S.weight_decay)
''', "tiny", "the L2 coefficient (1e-4) reused as the decoupled one"),
        Mistake('''
val_ds = data["val"]
adamw_trainer = training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                      step_fn=train_step, weight_decay=0.0)
''', "none", "L2 switched off and nothing in its place"),
    ]

    def verify(self, adamw_trainer, trainer, val_ds):
        adamw_trainer, trainer = _trainer(adamw_trainer, "adamw_trainer"), _trainer(trainer, "trainer")
        wd = float(getattr(adamw_trainer, "decoupled_weight_decay", 0.0))
        l2 = float(adamw_trainer.weight_decay)
        if wd == 0 and l2 == 0:
            return self.wrong("none")
        if wd == 0:
            return self.wrong("l2", l2=l2)
        if l2 > 0:
            return self.wrong("both", l2=l2, wd=wd)
        steps = max(int(trainer.step.numpy()), 1)
        shrink = _shrink(trainer, wd, steps)
        per_step = trainer.schedule.initial * wd
        if per_step < 1e-6:     # below 1e-3 for a rate of 1e-3: the L2 scale, not AdamW's
            return self.wrong("tiny", wd=wd, per_step=per_step, shrink=shrink, steps=steps)
        if _epochs(adamw_trainer) < _epochs(trainer):
            return self.wrong("epochs", got=_epochs(adamw_trainer), want=_epochs(trainer))
        cmp = paired(trainer, adamw_trainer, val_ds)
        cmp["verdict"] = self.fragment(cmp["verdict"])
        return self.passed(wd=wd, shrink=shrink, steps=steps, l2=trainer.weight_decay,
                           rms_a=_kernel_rms(trainer.model), rms_b=_kernel_rms(adamw_trainer.model),
                           **cmp)


# --------------------------------------------------------------------------- 3

class XlaTiming(Exercise):
    number = 3
    title = "Does XLA speed up the step here? Time it properly"
    answers = ("xla_trainer", "plain_times", "xla_times")
    where = "class"
    minutes = 10
    starter = '''
    images, labels = next(iter(data["train"]))
    xla_trainer = ____   # a trainer for a fresh lesson model whose train step XLA compiles
    plain_times = ____   # seconds per train step of a plain trainer: a list of at least 5
    xla_times = ____     # the same for xla_trainer
    '''
    hint = """
    `training.make_trainer(..., jit_compile=True)`. Time one trainer at a time, on the same
    batch: run a few steps first without the clock (the first call traces the step, and
    XLA compiles it), then time each of at least five steps with `time.perf_counter()`,
    ending each with `.numpy()` on a result so the clock waits for the step to finish."""
    solution = '''
    images, labels = next(iter(data["train"]))

    def step_times(trainer, n=8, warmup=3):
        for _ in range(warmup):               # tracing and compiling happen here, untimed
            trainer.train_step(images, labels)
        times = []
        for _ in range(n):
            start = time.perf_counter()
            trainer.train_step(images, labels)["total_loss"].numpy()
            times.append(time.perf_counter() - start)
        return times

    xla_trainer = training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                        step_fn=train_step, jit_compile=True)
    plain_times = step_times(training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                                   step_fn=train_step))
    xla_times = step_times(xla_trainer)
    '''
    explanation = """
    The first call of a `tf.function` traces the Python code into a graph, and with
    `jit_compile=True` XLA then compiles that graph: seconds, once. Timing it with the
    steps makes XLA look far slower than it is; warm up first, then report the median and
    the spread of several steps, one trainer at a time. On this curriculum's two-core CPU
    machine `python -m benchmarks xception` recorded XLA at 0.14 to 0.18 times the speed
    of the plain `tf.function` step for this model (benchmarks/results.jsonl): XLA's CPU
    backend handles these depthwise convolutions worse than TensorFlow's own kernels.
    On GPUs and TPUs XLA fuses the many small element-wise ops between convolutions
    (batch norm, ReLU, additions), and TensorFlow's XLA documentation reports speed-ups
    there; no GPU figure for this model is recorded yet, so whether it gains on one is a
    measurement to make, with the same method, on that machine."""
    messages = {
        "passed": "right: without XLA a step takes {plain:.3f} s (median; {plain_lo:.3f} to "
                  "{plain_hi:.3f}), with XLA {xla:.3f} s ({xla_lo:.3f} to {xla_hi:.3f}): XLA is "
                  "{ratio:.2f}x the speed here, and {spread}",
        "spread_apart": "the two ranges do not overlap: a difference on this machine",
        "spread_overlap": "the two ranges overlap: no clear difference on this machine",
        "no_xla": "your xla_trainer does not compile with XLA (jit_compile is False): pass "
                  "jit_compile=True to training.make_trainer",
        "few": "your {which} list has {n} time(s): take at least 5, to see the spread",
        "warmup": "your {which} times include a step {ratio:.0f}x slower than their median ({worst:.2f} s "
                  "against {median:.3f} s): that is the first call, which traces the step (and, with "
                  "XLA, compiles it) once. Run a few steps before the clock starts",
        "not_run": "your xla_trainer took {steps} step(s), fewer than the {n} times in xla_times: "
                   "time xla_trainer's own train_step",
    }
    mistakes = [
        Mistake('''
images, labels = next(iter(data["train"]))

def step_times(trainer, n=8):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        trainer.train_step(images, labels)["total_loss"].numpy()
        times.append(time.perf_counter() - start)
    return times

xla_trainer = training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                    step_fn=train_step, jit_compile=True)
plain_times = step_times(training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                               step_fn=train_step))
xla_times = step_times(xla_trainer)
''', "warmup", "no warm-up: the first (tracing, compiling) call timed with the rest"),
        Mistake('''
images, labels = next(iter(data["train"]))

def step_times(trainer, n=8, warmup=3):
    for _ in range(warmup):
        trainer.train_step(images, labels)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        trainer.train_step(images, labels)["total_loss"].numpy()
        times.append(time.perf_counter() - start)
    return times

xla_trainer = training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                    step_fn=train_step)
plain_times = step_times(training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                               step_fn=train_step))
xla_times = step_times(xla_trainer)
''', "no_xla", "jit_compile=True forgotten"),
        Mistake('''
images, labels = next(iter(data["train"]))

def step_times(trainer, n=8, warmup=3):
    for _ in range(warmup):
        trainer.train_step(images, labels)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        trainer.train_step(images, labels)["total_loss"].numpy()
        times.append(time.perf_counter() - start)
    return times

plain = training.make_trainer(training.build_flowers_model(S, compute_dtype), S, step_fn=train_step)
xla_trainer = training.make_trainer(training.build_flowers_model(S, compute_dtype), S,
                                    step_fn=train_step, jit_compile=True)
plain_times = step_times(plain)
xla_times = step_times(plain)
''', "not_run", "the plain trainer timed twice"),
    ]

    def verify(self, xla_trainer, plain_times, xla_times):
        xla_trainer = _trainer(xla_trainer, "xla_trainer")
        if not getattr(xla_trainer, "jit_compile", False):
            return self.wrong("no_xla")
        lists = {}
        for which, times in (("plain_times", plain_times), ("xla_times", xla_times)):
            t = np.asarray(list(times), dtype=float)
            if t.size < 5:
                return self.wrong("few", which=which, n=int(t.size))
            if (t <= 0).any():
                raise ExerciseError(f"{which} holds a time <= 0: measure seconds with "
                                    "time.perf_counter()")
            lists[which] = t
        for which, t in lists.items():
            median = float(np.median(t))
            if t.max() > 5 * median:
                return self.wrong("warmup", which=which, ratio=t.max() / median,
                                  worst=float(t.max()), median=median)
        if int(xla_trainer.step.numpy()) < len(lists["xla_times"]):
            return self.wrong("not_run", steps=int(xla_trainer.step.numpy()),
                              n=len(lists["xla_times"]))
        p, x = lists["plain_times"], lists["xla_times"]
        pm, xm = float(np.median(p)), float(np.median(x))
        if x.max() < p.min() or p.max() < x.min():
            spread = self.fragment("spread_apart")
        else:
            spread = self.fragment("spread_overlap")
        return self.passed(plain=pm, plain_lo=float(p.min()), plain_hi=float(p.max()), xla=xm,
                           xla_lo=float(x.min()), xla_hi=float(x.max()), ratio=pm / xm,
                           spread=spread)


# --------------------------------------------------------------------------- 4

def _class_names() -> list[str]:
    from edgelab.datasets import flowers17

    return list(flowers17.CLASS_NAMES)


def _neighbour_counts(embeddings: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """``counts[a, b]``: images of class a whose nearest other image is of class b."""
    e = embeddings.astype(np.float64)
    sq = (e ** 2).sum(1)
    d = sq[:, None] + sq[None, :] - 2 * e @ e.T
    np.fill_diagonal(d, np.inf)
    nearest = labels[d.argmin(1)]
    counts = np.zeros((k, k), np.int64)
    np.add.at(counts, (labels, nearest), 1)
    return counts


class Overlap(Exercise):
    number = 4
    title = "Which two classes overlap most? Read it off the embeddings"
    answers = ("overlap_pair", "embeddings", "y_test", "logits")
    where = "class"
    minutes = 10
    starter = '''
    overlap_pair = ____   # the two class names whose images are most often each other's nearest neighbour
    '''
    hint = """
    For every test image, find the nearest *other* image in the 256-d `embeddings`
    (Euclidean distance; a point's distance to itself is 0, so exclude it). Count, for
    each pair of classes, how often an image of one has its nearest neighbour in the
    other, in both directions, and name the pair with the highest count."""
    solution = '''
    d = ((embeddings[:, None, :] - embeddings[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)                        # a point is not its own neighbour
    nearest = y_test[d.argmin(axis=1)]
    counts = np.zeros((len(class_names), len(class_names)), int)
    np.add.at(counts, (y_test, nearest), 1)
    between = counts + counts.T                        # both directions
    np.fill_diagonal(between, 0)                       # only pairs of different classes
    a, b = np.unravel_index(between.argmax(), between.shape)
    overlap_pair = (class_names[a], class_names[b])
    '''
    explanation = """
    The projector's t-SNE and PCA views are pictures of this: which images lie next to
    which. Nearest neighbours in the 256-d embedding answer the question without the
    distortions of a 2-D map (t-SNE keeps neighbourhoods only roughly, and its distances
    between clusters mean little). The pair is often one the model also confuses in the
    confusion matrix, since the classifier reads the same vectors; when the two differ,
    the classifier has found a direction that separates them although they lie close.
    Flowers that share a colour and shape from a distance (white, yellow or purple ones)
    are the usual suspects; more training images, or features pretrained on many more
    (notebook 05), separate them better."""
    messages = {
        "passed": "right: {a} and {b}: {count} times an image of one has its nearest neighbour in "
                  "the other. The model confuses them {confused} times in these predictions; the "
                  "pair it confuses most is {ca} and {cb} ({top} times){agree}",
        "agree_same": ": the same pair",
        "agree_other": ": another pair, so the classifier separates these two better than their "
                       "closeness suggests",
        "names": "give the two class names, e.g. (class_names[a], class_names[b]), not {got!r}",
        "same": "your two classes are the same, {a}: each image's nearest neighbour was itself "
                "(distance 0), or the count kept pairs within one class. Exclude the point itself "
                "and count only pairs of different classes",
        "flat": "you passed {dims}-d points: a 2-D projection (t-SNE, PCA) distorts distances. "
                "Find the neighbours in the 256-d embeddings themselves",
        "pair": "{a} and {b} meet {got} times as nearest neighbours; {wa} and {wb} meet most often, "
                "{want} times (counted in both directions)",
    }
    mistakes = [
        Mistake('''
d = ((embeddings[:, None, :] - embeddings[None, :, :]) ** 2).sum(-1)
nearest = y_test[d.argmin(axis=1)]
counts = np.zeros((len(class_names), len(class_names)), int)
np.add.at(counts, (y_test, nearest), 1)
a, b = np.unravel_index(counts.argmax(), counts.shape)
overlap_pair = (class_names[a], class_names[b])
''', "same", "each point its own nearest neighbour"),
        Mistake('''
d = ((embeddings[:, None, :] - embeddings[None, :, :]) ** 2).sum(-1)
np.fill_diagonal(d, np.inf)
nearest = y_test[d.argmin(axis=1)]
counts = np.zeros((len(class_names), len(class_names)), int)
np.add.at(counts, (y_test, nearest), 1)
between = counts + counts.T
np.fill_diagonal(between, 0)
overlap_pair = np.unravel_index(between.argmax(), between.shape)
''', "names", "class indices instead of names"),
        Mistake('''
embeddings = projector.pca_2d(embeddings)
d = ((embeddings[:, None, :] - embeddings[None, :, :]) ** 2).sum(-1)
np.fill_diagonal(d, np.inf)
nearest = y_test[d.argmin(axis=1)]
counts = np.zeros((len(class_names), len(class_names)), int)
np.add.at(counts, (y_test, nearest), 1)
between = counts + counts.T
np.fill_diagonal(between, 0)
a, b = np.unravel_index(between.argmax(), between.shape)
overlap_pair = (class_names[a], class_names[b])
''', "flat", "neighbours found in the 2-D projection"),
    ]

    def verify(self, overlap_pair, embeddings, y_test, logits):
        names = _class_names()
        emb, labels = np.asarray(embeddings), np.asarray(y_test).astype(int)
        if emb.ndim != 2 or len(emb) != len(labels):
            raise ExerciseError(f"embeddings should be one vector per image, shape (N, 256), and "
                                f"y_test N labels; got {emb.shape} and {labels.shape}")
        if emb.shape[1] <= 3:
            return self.wrong("flat", dims=emb.shape[1])
        pair = tuple(overlap_pair)
        if len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            return self.wrong("names", got=tuple(int(p) if isinstance(p, (np.integer, int)) else p
                                                 for p in pair))
        unknown = [p for p in pair if p not in names]
        if unknown:
            raise ExerciseError(f"{unknown[0]!r} is not one of the 17 class names")
        a, b = names.index(pair[0]), names.index(pair[1])
        if a == b:
            return self.wrong("same", a=pair[0])
        counts = _neighbour_counts(emb, labels, len(names))
        between = counts + counts.T
        np.fill_diagonal(between, 0)
        best = int(between.max())
        if int(between[a, b]) != best:
            wa, wb = np.unravel_index(between.argmax(), between.shape)
            return self.wrong("pair", a=pair[0], b=pair[1], got=int(between[a, b]), wa=names[wa],
                              wb=names[wb], want=best)
        predicted = np.asarray(logits).argmax(1)
        cm = np.zeros((len(names), len(names)), np.int64)
        np.add.at(cm, (labels, predicted), 1)
        confused = cm + cm.T
        np.fill_diagonal(confused, 0)
        ca, cb = np.unravel_index(confused.argmax(), confused.shape)
        agree = self.fragment("agree_same" if {ca, cb} == {a, b} else "agree_other")
        return self.passed(a=pair[0], b=pair[1], count=best, confused=int(confused[a, b]),
                           ca=names[ca], cb=names[cb], top=int(confused[ca, cb]), agree=agree)
