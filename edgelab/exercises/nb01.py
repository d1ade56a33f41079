"""Notebook 01's exercises: batches and learning rate for eight replicas, two replicas on a
laptop, a step an accelerator compiles, and resuming training from a checkpoint.

Each checker takes the learner's objects (a pipeline, a number, a strategy, a function, a
model) and compares them with what it derives itself from the package: the profile's sizes
(:func:`edgelab.core.profiles.sizes`), XLA's verdict (:mod:`edgelab.mnist.xla`), the
devices the framework sees. Nothing is read from the notebook's globals.
"""

from __future__ import annotations

import math

import numpy as np

from edgelab.exercises.core import ____, Exercise, ExerciseError, Mistake


def _sizes():
    from edgelab.core import profiles

    return profiles.sizes("mnist")


def _batches(pipeline) -> tuple[int | None, int]:
    """``(static batch size or None, batches per epoch)`` of a tf.data pipeline or of
    edgelab's NumPy batches."""
    if hasattr(pipeline, "element_spec"):                      # tf.data.Dataset
        spec = pipeline.element_spec
        first = spec[0] if isinstance(spec, (tuple, list)) else spec
        size = first.shape[0]
        return (None if size is None else int(size)), int(pipeline.cardinality())
    if hasattr(pipeline, "batch_size") and hasattr(pipeline, "drop_remainder"):   # NumPy batches
        partial = len(pipeline.images) % pipeline.batch_size and not pipeline.drop_remainder
        return (None if partial else int(pipeline.batch_size)), len(pipeline)
    raise ExerciseError(f"expected the batches make_batches(...) returns, got "
                        f"{type(pipeline).__name__}")


# --------------------------------------------------------------------------- 1

class EightReplicas(Exercise):
    number = 1
    title = "Batches and learning rate for eight replicas"
    answers = ("train_8", "lr_8")
    where = "class"
    minutes = 10
    starter = '''
    train_8 = ____   # the training batches for 8 replicas of S.batch_size_per_replica images each
    lr_8 = ____      # the peak learning rate for 8 replicas, by this lesson's rule
    '''
    hint = """
    Each of the 8 replicas takes `S.batch_size_per_replica` images per step, so the pipeline
    batches all of them at once: `make_batches(x_fit, y_fit, <global batch>, shuffle=True,
    seed=lab.seed, drop_remainder=True)`, as section 2 does for this machine. The rate
    grows with the square root of the replica count (section 3)."""
    solution = '''
    train_8 = make_batches(x_fit, y_fit, 8 * S.batch_size_per_replica, shuffle=True,
                           seed=lab.seed, drop_remainder=True)
    lr_8 = S.learning_rate * math.sqrt(8)
    '''
    explanation = """
    A replica never sees the pipeline: the strategy (or distribution) splits every global
    batch into equal per-replica parts, so the pipeline batches 8 x the per-replica size,
    and an epoch has 8 times fewer steps. `drop_remainder=True` keeps every batch the same
    shape; a TPU compiles one program per input shape, so a smaller last batch would cost a
    second compilation (and may not split evenly over 8 replicas). Each step averages 8
    times more images, so its gradient is less noisy and can take a longer step: for Adam
    the square-root rule (Malladi et al., 2022) gives x sqrt(8), about 2.83; the linear
    rule (x8) is the one for SGD, with a warm-up. Either is a starting point to check on
    the validation split."""
    messages = {
        "passed": "right: {want} images per step ({per} on each of 8 replicas), {steps} steps per "
                  "epoch, all of the same shape; peak rate {lr:.4g} = {base:g} x sqrt(8)",
        "per_replica": "your pipeline batches {got} images, one replica's share. The pipeline makes the "
                       "global batch, which the strategy splits: with 8 replicas each step takes "
                       "8 x {per} = {want} images",
        "batch": "your pipeline batches {got} images per step; 8 replicas of {per} take {want}",
        "partial": "your batches have no fixed size: the last one of each epoch is smaller. A TPU "
                   "compiles one program per input shape, so that batch costs a second compilation "
                   "(and may not split evenly over 8 replicas): pass drop_remainder=True",
        "linear": "{lr:.4g} is the linear rule (x8), made for SGD with a warm-up; for Adam this "
                  "lesson scales the rate by sqrt(8): {want:.4g}",
        "unscaled": "{lr:g} is the one-replica rate. With 8 times the images per step the gradient is "
                    "less noisy and can take a longer step: scale it by sqrt(8)",
        "lr": "the square-root rule gives {base:g} x sqrt(8) = {want:.4g}; you gave {lr:.4g}",
    }
    mistakes = [
        Mistake('''
train_8 = make_batches(x_fit, y_fit, S.batch_size_per_replica, shuffle=True, seed=lab.seed,
                       drop_remainder=True)
lr_8 = S.learning_rate * math.sqrt(8)
''', "per_replica", "the per-replica batch given to the pipeline"),
        Mistake('''
train_8 = make_batches(x_fit, y_fit, 8 * S.batch_size_per_replica, shuffle=True, seed=lab.seed)
lr_8 = S.learning_rate * math.sqrt(8)
''', "partial", "drop_remainder left out (a smaller last batch)"),
        Mistake('''
train_8 = make_batches(x_fit, y_fit, 8 * S.batch_size_per_replica, shuffle=True, seed=lab.seed,
                       drop_remainder=True)
lr_8 = S.learning_rate * 8
''', "linear", "the linear (SGD) rule for Adam"),
    ]

    def verify(self, train_8, lr_8):
        S = _sizes()
        per, base = S.batch_size_per_replica, S.learning_rate
        want, want_lr = 8 * per, base * math.sqrt(8)
        size, steps = _batches(train_8)
        if size is None:
            return self.wrong("partial")
        if size == per:
            return self.wrong("per_replica", got=size, per=per, want=want)
        if size != want:
            return self.wrong("batch", got=size, per=per, want=want)
        lr = float(lr_8)
        if math.isclose(lr, base * 8, rel_tol=1e-6):
            return self.wrong("linear", lr=lr, want=want_lr)
        if math.isclose(lr, base, rel_tol=1e-6):
            return self.wrong("unscaled", lr=lr)
        if not math.isclose(lr, want_lr, rel_tol=1e-3):
            return self.wrong("lr", base=base, want=want_lr, lr=lr)
        return self.passed(want=want, per=per, steps=steps, lr=lr, base=base)


# --------------------------------------------------------------------------- 2

def _replicas(placed) -> tuple[int, int, str]:
    """``(replicas, devices the framework sees, engine)`` of a tf.distribute strategy or a
    keras.distribution distribution."""
    if hasattr(placed, "num_replicas_in_sync"):
        import tensorflow as tf

        return (int(placed.num_replicas_in_sync), len(tf.config.list_logical_devices("CPU"))
                + len(tf.config.list_logical_devices("GPU")), "tensorflow")
    if hasattr(placed, "device_mesh"):
        import jax

        return int(placed.device_mesh.devices.size), len(jax.devices()), "jax"
    raise ExerciseError("expected the strategy (tf.distribute.MirroredStrategy) or the "
                        f"distribution (keras.distribution.DataParallel) of section 1, got "
                        f"{type(placed).__name__}")


class TwoReplicas(Exercise):
    number = 2
    title = "Two replicas on your laptop"
    answers = ("two", "model", "train_ds")
    where = "home"
    minutes = 15
    starter = '''
    # after restarting with EDGELAB_SIMULATE_DEVICES=2 and running sections 1 to 4:
    two = ____   # the strategy (TensorFlow) or distribution (JAX) you made in section 1
    '''
    hint = """
    The variable must be set before the first cell imports TensorFlow or JAX: put
    `%env EDGELAB_SIMULATE_DEVICES=2` in a new cell at the very top, restart the kernel
    (Colab: Runtime > Restart session) and run from the top. Then pass `strategy` (or
    `distribution` on JAX); `model` and `train_ds` are section 3's and section 2's."""
    solution = '''
    two = strategy if engine.name == "tensorflow" else distribution
    '''
    explanation = """
    With two devices the strategy keeps a copy of every weight on each, splits each global
    batch in two, and adds the two halves' gradients (all-reduce) before every update, so
    the global batch doubles and an epoch takes half the steps. The copies exist only for
    a model built inside `strategy.scope()` (TensorFlow) or after `set_distribution`
    (JAX); a model built outside trains on one device, silently. On a laptop the two
    "devices" share the same CPU cores, so nothing runs in parallel that did not before,
    and the all-reduce is extra work: an epoch is not faster. `python -m benchmarks
    mnist_replicas` recorded on two CPU cores: 610 images/s with one replica and 471 with
    two on TensorFlow, 155 and 135 on JAX (benchmarks/results.jsonl; one run each, on a
    busy machine, so read them as "not faster", not as exact ratios). On real GPUs or TPU
    chips each replica has hardware of its own, which is where a speed-up comes from."""
    messages = {
        "passed": "right: {replicas} replicas on {engine}, a full copy of the weights on each; every "
                  "step takes {batch} images ({per} per replica), so an epoch has {steps} steps, half "
                  "as many as with one replica",
        "default": "your strategy has 1 replica although TensorFlow sees {devices} devices: that is "
                   "the default strategy (tf.distribute.get_strategy()); create "
                   "tf.distribute.MirroredStrategy()",
        "one_device": "1 replica: this kernel sees one device, so EDGELAB_SIMULATE_DEVICES=2 was not "
                      "set when it started. Put %env EDGELAB_SIMULATE_DEVICES=2 in a cell at the very "
                      "top, restart the kernel (Colab: Runtime > Restart session) and run from the top",
        "scope": "your model's weights live on {copies} device(s), not on each of the {replicas}: it "
                 "was built outside strategy.scope() (on JAX: before set_distribution), so fit() "
                 "trains it on one device. Build and compile it inside the scope",
        "batch": "your training batches hold {got} images; with {replicas} replicas of {per} each "
                 "step takes {want} (global_batch = S.batch_size_per_replica * replicas)",
    }
    mistakes = [
        Mistake('''
two = strategy if engine.name == "tensorflow" else distribution
model = cnn.compile_model(cnn.build_model(), lr, steps=S.epochs * steps_per_epoch)
''', "scope", "the model built outside strategy.scope()"),
        Mistake('''
two = strategy if engine.name == "tensorflow" else distribution
train_ds = make_batches(x_fit, y_fit, S.batch_size_per_replica, shuffle=True, seed=lab.seed,
                        drop_remainder=True)
''', "batch", "the pipeline still batching one replica's share"),
    ]

    def verify(self, two, model, train_ds):
        from edgelab import devices

        replicas, seen, engine = _replicas(two)
        if replicas < 2:
            if seen >= 2 and engine == "tensorflow":
                return self.wrong("default", devices=seen)
            return self.wrong("one_device")
        copies = devices.copies(model.weights[0])
        if copies != replicas:
            return self.wrong("scope", copies=copies, replicas=replicas)
        per = _sizes().batch_size_per_replica
        size, steps = _batches(train_ds)
        if size != replicas * per:
            return self.wrong("batch", got=size, replicas=replicas, per=per, want=replicas * per)
        return self.passed(replicas=replicas, engine={"tensorflow": "TensorFlow", "jax": "JAX"}[engine],
                           batch=size, per=per, steps=steps)


# --------------------------------------------------------------------------- 3

def _sample_logits() -> np.ndarray:
    """A batch of 32 logits whose argmax covers some digits several times and some never."""
    rng = np.random.default_rng(1)
    digits = np.array([3] * 9 + [7] * 6 + [1] * 5 + [0, 0, 2, 2, 2, 5, 5, 8, 8, 8, 9, 4])
    logits = rng.normal(0, 1, (len(digits), 10)).astype(np.float32)
    logits[np.arange(len(digits)), digits] += 6.0
    return logits


class CompilableStep(Exercise):
    number = 3
    title = "A step an accelerator can compile"
    answers = ("count_digits",)
    where = "class"
    minutes = 10
    starter = '''
    def count_digits(logits):
        """How many images of the batch the model calls 0, 1, ..., 9: a tensor of 10 counts."""
        digits = tf.argmax(logits, axis=1)
        return ____
    '''
    hint = """
    An accelerator program has shapes fixed when it is compiled, so the answer must have 10
    entries whatever the batch holds. Turn each digit into a row of 10 (`tf.one_hot`) and
    add the rows up; or `tf.math.bincount` with `minlength` and `maxlength` both 10."""
    solution = '''
    def count_digits(logits):
        """How many images of the batch the model calls 0, 1, ..., 9: a tensor of 10 counts."""
        digits = tf.argmax(logits, axis=1)
        return tf.reduce_sum(tf.one_hot(digits, 10, dtype=tf.int32), axis=0)
    '''
    explanation = """
    `tf.unique_with_counts` returns one count per *distinct* digit in the batch, so its
    output shape depends on the data; XLA needs every shape when it compiles, and has no
    kernel for it. `tf.py_function` runs Python on the host in the middle of the step,
    which a compiled accelerator program cannot do. A one-hot sum (or a bincount with a
    fixed length) has the shape (10,) for every batch and compiles to a few fused ops.
    Counting in float64 compiles on the CPU, but TPUs have no float64 hardware: keep
    int32 or float32."""
    messages = {
        "passed": "right: XLA compiles it, with no 64-bit floats, and for a test batch of 32 it "
                  "returns {counts}",
        "unique": "XLA refuses {ops}: tf.unique_with_counts returns one count per distinct digit, so "
                  "its shape depends on the data, and an accelerator program needs its shapes when it "
                  "is compiled. Count into 10 fixed slots instead",
        "python": "XLA refuses {ops}: tf.py_function calls back into Python on the host, which a "
                  "compiled accelerator program cannot do. Count with TensorFlow ops",
        "rejected": "XLA refuses {ops} in your function: an accelerator could not run it",
        "shape": "your function returns shape {shape}; the counts of ten digits have shape (10,) "
                 "(a sum over the wrong axis gives one number per image instead)",
        "values": "your function returns {got} for a batch whose digits count {want}",
        "float64": "XLA compiles it on the CPU, but it computes in {types}, which TPU hardware does "
                   "not have: count in int32 or float32",
    }
    mistakes = [
        Mistake('''
def count_digits(logits):
    digits = tf.argmax(logits, axis=1)
    _, _, counts = tf.unique_with_counts(digits)
    return counts
''', "unique", "tf.unique_with_counts: a shape that depends on the data"),
        Mistake('''
def count_digits(logits):
    digits = tf.argmax(logits, axis=1)
    return tf.py_function(lambda d: np.bincount(d.numpy(), minlength=10), [digits], tf.int64)
''', "python", "tf.py_function around np.bincount"),
        Mistake('''
def count_digits(logits):
    digits = tf.argmax(logits, axis=1)
    return tf.reduce_sum(tf.one_hot(digits, 10, dtype=tf.float64), axis=0)
''', "float64", "counting in float64"),
        Mistake('''
def count_digits(logits):
    digits = tf.argmax(logits, axis=1)
    return tf.reduce_sum(tf.one_hot(digits, 10), axis=1)
''', "shape", "the sum over the wrong axis"),
    ]

    def verify(self, count_digits):
        if not callable(count_digits):
            raise ExerciseError("count_digits should be the function you defined (without "
                                "calling it)")
        from edgelab.mnist import xla

        logits = _sample_logits()
        out = count_digits(logits)
        if out is ____:
            raise ExerciseError("replace ____ in `return ____` with the counts, then "
                                "run the cell again")
        rejected = xla.rejected_ops(count_digits, logits)
        if rejected:
            ops = ", ".join(rejected)
            if any(op.startswith("Unique") for op in rejected):
                return self.wrong("unique", ops=ops)
            if any("PyFunc" in op for op in rejected):
                return self.wrong("python", ops=ops)
            return self.wrong("rejected", ops=ops)
        got = np.asarray(out)
        if got.shape != (10,):
            return self.wrong("shape", shape=tuple(got.shape))
        want = np.bincount(logits.argmax(1), minlength=10)
        if not np.array_equal(got.astype(np.int64), want):
            return self.wrong("values", got=got.tolist(), want=want.tolist())
        wide = xla.wide_float_types(count_digits, logits)
        if wide:
            return self.wrong("float64", types=", ".join(wide))
        return self.passed(counts=want.tolist())


# --------------------------------------------------------------------------- 4

def _rates(optimizer, step: int) -> tuple[float, float]:
    """``(peak rate, rate at step)`` of an optimizer's learning rate or schedule."""
    import keras

    config = optimizer.get_config()["learning_rate"]
    if isinstance(config, dict):                       # a serialized schedule
        schedule = keras.optimizers.schedules.deserialize(config)
        peak = float(config.get("config", {}).get("initial_learning_rate", schedule(0)))
        return peak, float(keras.ops.convert_to_numpy(schedule(step)))
    return float(config), float(config)


class Resume(Exercise):
    number = 4
    title = "Resume training where it stopped"
    answers = ("resumed", "model")
    where = "class"
    minutes = 10
    starter = '''
    resumed = ____   # the trained model back from a file of section 7, ready to go on training
    '''
    hint = """
    Which of section 7's files holds more than the weights? `keras.models.load_model`
    reads a whole `.keras` file: architecture, weights, and the optimizer with its step
    counter and Adam's moments."""
    solution = '''
    resumed = keras.models.load_model(model_file)
    '''
    explanation = """
    A `.weights.h5` file holds the weights only. A model rebuilt and compiled anew starts
    its optimizer at step 0: Adam's moment estimates are zero again, and the cosine
    schedule starts over at its peak rate, a large jump for a model that had almost
    finished. The `.keras` file stores the optimizer's variables too (its step counter and
    moments), so `fit` on the loaded model continues the schedule where it stopped.
    `load_model(..., compile=False)` drops the optimizer and gives back a model for
    inference only."""
    messages = {
        "passed": "right: the weights, Adam's moments and the step counter ({steps}) came back, so "
                  "fit() continues the cosine schedule where it stopped: at a rate of {lr:.2g}, "
                  "not at its peak {peak:g}",
        "type": "resumed should be a Keras model, got {kind}",
        "weights": "your model's weights differ from the trained model's: {differ} of {total} "
                   "arrays are not the trained ones, so nothing (or not everything) was restored",
        "no_optimizer": "your model has no optimizer: load_model(..., compile=False) (or a bare model) "
                        "drops it. fit() would need a new one, with Adam's moments at zero and the "
                        "schedule back at its peak",
        "restarted": "the weights came back, the training did not: your optimizer is at step {got}, "
                     "the trained one at step {want}. A .weights.h5 file holds weights only, so "
                     "Adam's moments start from zero and the cosine schedule again from its peak "
                     "{peak:g}, not from {now:.2g}. Load the .keras file",
        "steps": "your optimizer is at step {got}, the trained model's at {want}: load the file "
                 "the trained model was saved to last",
    }
    mistakes = [
        Mistake('''
resumed = cnn.compile_model(cnn.build_model(layer_names=False), lr,
                            steps=S.epochs * steps_per_epoch)
resumed.load_weights(lab.out / "cnn_unnamed.weights.h5")
''', "restarted", "a fresh model and optimizer with the weights file loaded"),
        Mistake('''
resumed = keras.models.load_model(model_file, compile=False)
''', "no_optimizer", "compile=False"),
        Mistake('''
resumed = cnn.compile_model(cnn.build_model(), lr, steps=S.epochs * steps_per_epoch)
''', "weights", "a new model, nothing loaded"),
    ]

    def verify(self, resumed, model):
        import keras

        if not isinstance(resumed, keras.Model):
            return self.wrong("type", kind=type(resumed).__name__)
        mine, theirs = resumed.get_weights(), model.get_weights()
        differ = sum(1 for a, b in zip(mine, theirs) if a.shape != b.shape or not np.array_equal(a, b))
        if len(mine) != len(theirs) or differ:
            return self.wrong("weights", differ=differ or abs(len(mine) - len(theirs)),
                              total=len(theirs))
        opt = getattr(resumed, "optimizer", None)
        if opt is None:
            return self.wrong("no_optimizer")
        got = int(keras.ops.convert_to_numpy(opt.iterations))
        want = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        peak, now = _rates(model.optimizer, want)
        if got == 0 and want > 0:
            return self.wrong("restarted", got=got, want=want, peak=peak, now=now)
        if got != want:
            return self.wrong("steps", got=got, want=want)
        return self.passed(steps=got, lr=now, peak=peak)
