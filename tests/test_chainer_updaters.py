"""Multi-head updater: summed gradients, one optimizer per part, freezing, reports, snapshots."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from edgelab.chainer.compat import chainer
import chainer.links as L  # noqa: E402
from chainer.training import extensions  # noqa: E402

from edgelab.chainer import multihead as mh  # noqa: E402
from edgelab.chainer.updaters import (MultiHeadClassifier, MultiHeadUpdater,  # noqa: E402
                                      ResumablePlotReport, TqdmProgress, default_device)


def synthetic_tasks(n=240, seed=0):
    """A synthetic two-task problem (the tests check mechanics, not MNIST accuracy):
    task 'a' is the sign of feature 0, task 'b' the sign of feature 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    a = (x[:, 0] > 0).astype(np.int32)
    b = (x[:, 1] > 0).astype(np.int32)
    return chainer.datasets.TupleDataset(x, a, b)


def small_model(seed=0):
    np.random.seed(seed)  # Chainer's initializers draw from NumPy's global generator
    trunk = L.Linear(6, 8)
    return MultiHeadClassifier(trunk, {"a": L.Linear(8, 2), "b": L.Linear(8, 2)})


def optimizers_for(model, lr=0.05):
    out = {}
    for name, link in [("trunk", model.trunk), *model.heads.items()]:
        opt = chainer.optimizers.Adam(alpha=lr)
        opt.setup(link)
        out[name] = opt
    return out


def params(model):
    return {path: p.array.copy() for path, p in model.namedparams()}


def test_summed_loss_gives_the_trunk_the_sum_of_per_head_gradients():
    import chainer.functions as F

    ds = synthetic_tasks(32)
    x, a, b = chainer.dataset.concat_examples(ds[:32])
    model = small_model()
    model.cleargrads()
    model(x, a, b).backward()
    together = model.trunk.W.grad.copy()
    separate = np.zeros_like(together)
    for name, t in (("a", a), ("b", b)):
        model.cleargrads()
        F.softmax_cross_entropy(model.heads[name](model.trunk(x)), t).backward()
        separate += model.trunk.W.grad
    assert np.allclose(together, separate, atol=1e-6)
    assert np.abs(together).sum() > 0


def test_each_optimizer_updates_its_part_and_training_lowers_the_loss():
    ds = synthetic_tasks()
    model = small_model()
    updater = MultiHeadUpdater(chainer.iterators.SerialIterator(ds, 40), model,
                               optimizers_for(model), device="@numpy")
    x, a, b = chainer.dataset.concat_examples(ds[:])
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        first = float(model(x, a, b).array)
    before = params(model)
    for _ in range(60):
        updater.update()
    after = params(model)
    assert all(not np.array_equal(before[k], after[k]) for k in before)  # every part moved
    with chainer.no_backprop_mode():
        last = float(model(x, a, b).array)
    assert last < 0.5 * first
    assert updater.iteration == 60 and updater.epoch == 10
    assert all(o.t == 60 for o in updater.get_all_optimizers().values())


def test_frozen_head_keeps_its_weights_while_the_trunk_still_learns_from_it():
    ds = synthetic_tasks()
    model = small_model()
    updater = MultiHeadUpdater(chainer.iterators.SerialIterator(ds, 40), model,
                               optimizers_for(model), frozen={"b"})
    before = params(model)
    for _ in range(5):
        updater.update()
    after = params(model)
    assert all(np.array_equal(before[k], after[k]) for k in before if k.startswith("/b/"))
    assert all(not np.array_equal(before[k], after[k]) for k in before if not k.startswith("/b/"))
    assert model.b.W.grad is not None and np.abs(model.b.W.grad).sum() > 0  # gradient computed
    updater.frozen = ()
    updater.update()
    assert not np.array_equal(model.b.W.array, after["/b/W"])
    with pytest.raises(ValueError, match="cannot freeze.*'c'"):
        updater.frozen = {"c"}


def test_reports_reach_log_report_with_one_key_per_head(tmp_path):
    ds = synthetic_tasks()
    model = small_model()
    updater = MultiHeadUpdater(chainer.iterators.SerialIterator(ds, 40), model,
                               optimizers_for(model), device=default_device())
    trainer = chainer.training.Trainer(updater, (2, "epoch"), out=str(tmp_path))
    trainer.extend(extensions.Evaluator(
        chainer.iterators.SerialIterator(ds, 60, repeat=False, shuffle=False), model,
        device=updater.device))
    trainer.extend(extensions.LogReport())
    trainer.extend(TqdmProgress(update_interval=1))
    trainer.run()
    log = trainer.get_extension("LogReport").log
    assert len(log) == 2
    expected = {f"{p}main/{k}" for p in ("", "validation/")
                for k in ("loss", "a/loss", "a/accuracy", "b/loss", "b/accuracy")}
    assert expected <= set(log[-1])
    assert log[-1]["validation/main/a/accuracy"] > 0.8
    assert (tmp_path / "log").exists()


def test_snapshot_resume_equals_uninterrupted_training(tmp_path):
    ds = synthetic_tasks()

    def make(stop, out):
        model = small_model(seed=3)
        it = chainer.iterators.SerialIterator(ds, 40, shuffle=False)
        trainer = chainer.training.Trainer(MultiHeadUpdater(it, model, optimizers_for(model)),
                                           (stop, "epoch"), out=str(out))
        trainer.extend(extensions.snapshot(filename="snap_{.updater.epoch}"), trigger=(1, "epoch"))
        return trainer, model

    straight, straight_model = make(4, tmp_path / "a")
    straight.run()
    first, _ = make(2, tmp_path / "b")
    first.run()
    resumed, resumed_model = make(4, tmp_path / "b")
    chainer.serializers.load_npz(tmp_path / "b" / "snap_2", resumed)
    assert resumed.updater.iteration == 12
    resumed.run()
    a, b = params(straight_model), params(resumed_model)
    assert a.keys() == b.keys() and all(np.allclose(a[k], b[k], atol=1e-6) for k in a)


@pytest.mark.parametrize("plot_class, spurious", [(ResumablePlotReport, False),
                                                  (extensions.PlotReport, True)])
def test_resumed_plot_report_has_one_point_per_epoch(tmp_path, plot_class, spurious):
    """Stock PlotReport (Chainer 7.8.1) adds a spurious point right after a resume;
    ResumablePlotReport saves its trigger with the snapshot and does not."""
    ds = synthetic_tasks()

    def make(stop):
        model = small_model()
        it = chainer.iterators.SerialIterator(ds, 40)
        trainer = chainer.training.Trainer(MultiHeadUpdater(it, model, optimizers_for(model)),
                                           (stop, "epoch"), out=str(tmp_path))
        trainer.extend(plot_class(["main/a/loss"], "epoch", filename="a.png"), name="plot")
        trainer.extend(extensions.snapshot(filename="snap_{.updater.epoch}"), trigger=(1, "epoch"))
        return trainer

    make(2).run()
    resumed = make(4)
    chainer.serializers.load_npz(tmp_path / "snap_2", resumed)
    resumed.run()
    epochs = [x for x, _ in resumed.get_extension("plot")._data["main/a/loss"]]
    assert (epochs != [1, 2, 3, 4]) is spurious
    assert (tmp_path / "a.png").exists()


def test_optimizers_must_cover_every_part_exactly_once():
    ds = synthetic_tasks()
    it = chainer.iterators.SerialIterator(ds, 40)
    model = small_model()
    opts = optimizers_for(model)
    del opts["b"]
    with pytest.raises(ValueError, match=r"no optimizer updates /b/W"):
        MultiHeadUpdater(it, model, opts)
    opts = optimizers_for(model)
    opts["extra"] = copy.copy(opts["a"])  # a second optimizer over head a
    with pytest.raises(ValueError, match="updated by two optimizers"):
        MultiHeadUpdater(it, model, opts)
    stranger = chainer.optimizers.SGD()
    stranger.setup(L.Linear(2, 2))
    with pytest.raises(ValueError, match="not part of the model"):
        MultiHeadUpdater(it, model, {**optimizers_for(model), "stranger": stranger})
    with pytest.raises(ValueError, match="has no target"):
        MultiHeadUpdater(it, model, {**optimizers_for(model), "bare": chainer.optimizers.SGD()})
    with pytest.raises(ValueError, match="non-empty dict"):
        MultiHeadUpdater(it, model, chainer.optimizers.SGD())


def test_model_rejects_bad_heads_and_wrong_label_count():
    trunk = L.Linear(6, 8)
    with pytest.raises(ValueError, match="at least one head"):
        MultiHeadClassifier(trunk, {})
    for bad in ("trunk", "params", "not-a-name"):
        with pytest.raises(ValueError, match="head name"):
            MultiHeadClassifier(L.Linear(6, 8), {bad: L.Linear(8, 2)})
    with pytest.raises(ValueError, match="unknown heads"):
        MultiHeadClassifier(L.Linear(6, 8), {"a": L.Linear(8, 2)}, loss_weights={"z": 1.0})
    model = small_model()
    with pytest.raises(ValueError, match="one label array per head"):
        model(np.zeros((2, 6), np.float32), np.zeros(2, np.int32))


def test_loss_weights_scale_each_heads_contribution():
    ds = synthetic_tasks(16)
    x, a, b = chainer.dataset.concat_examples(ds[:16])
    plain = small_model()
    weighted = copy.deepcopy(plain)
    weighted.loss_weights = {"a": 1.0, "b": 0.0}
    import chainer.functions as F

    only_a = F.softmax_cross_entropy(plain.a(plain.trunk(x)), a)
    assert np.isclose(float(weighted(x, a, b).array), float(only_a.array))


def test_mnist_multihead_model_and_task_labels():
    digits, parity, over4 = mh.task_labels(np.arange(10))
    assert parity.tolist() == [0, 1] * 5
    assert over4.tolist() == [0] * 5 + [1] * 5
    assert digits.dtype == parity.dtype == over4.dtype == np.int32
    with pytest.raises(ValueError, match="0-9"):
        mh.task_labels(np.array([3, 10]))
    x, *labels = mh.DigitTasks()((np.zeros((1, 28, 28), np.float32), np.int32(7)))
    assert [int(v) for v in labels] == [7, 1, 1]
    model = mh.build_model()
    assert model.head_names == ("digit", "parity", "over4")
    assert mh.count_params(model) == mh.count_params(model.trunk) + sum(
        mh.count_params(h) for h in model.heads.values())
    preds = model.predict(np.zeros((3, 1, 28, 28), np.float32))
    assert {k: v.shape for k, v in preds.items()} == {"digit": (3,), "parity": (3,), "over4": (3,)}
    opts = mh.make_optimizers(model)
    assert set(opts) == {"trunk", "digit", "parity", "over4"}
    with pytest.raises(ValueError, match="multiple of 4"):
        mh.ConvTrunk(image_size=30)


def test_make_trainer_runs_snapshots_and_resumes(tmp_path):
    """The notebook's loop, on 200 random 28x28 images (mechanics only, not accuracy)."""
    rng = np.random.default_rng(0)
    images = rng.random((200, 1, 28, 28), dtype=np.float32)
    digits = rng.integers(0, 10, 200).astype(np.int32)
    ds = chainer.datasets.TransformDataset(chainer.datasets.TupleDataset(images, digits),
                                           mh.DigitTasks())
    first, _ = mh.make_trainer(ds, ds[:100], tmp_path, 1, batch_size=50, progress=False)
    first.run()
    assert (tmp_path / "snapshot_epoch_1").is_file()
    assert {"loss.png", "accuracy.png", "log"} <= {p.name for p in tmp_path.iterdir()}
    # the same extensions as the run that saved the snapshot (a trainer with an extension
    # the snapshot lacks warns that its trigger's state was not saved)
    resumed, model = mh.make_trainer(ds, ds[:100], tmp_path, 2, batch_size=50, progress=False)
    chainer.serializers.load_npz(tmp_path / "snapshot_epoch_1", resumed)
    assert resumed.updater.iteration == 4
    resumed.run()
    log = resumed.get_extension("LogReport").log
    assert [e["epoch"] for e in log] == [1, 2]
    assert {"validation/main/digit/accuracy", "main/parity/loss"} <= set(log[-1])
    assert isinstance(model, MultiHeadClassifier) and resumed.updater.iteration == 8


def test_default_device_refuses_a_cupy_chainer_does_not_support(monkeypatch):
    """Colab's GPU runtime ships CuPy 14; Chainer 7.8.1 declares CuPy >=7.7,<8."""
    import types

    from chainer.backends import cuda

    from edgelab.chainer import updaters

    assert updaters.cupy_requirement() == ">=7.7.0,<8.0.0"
    fake = types.SimpleNamespace(__version__="14.0.1", cuda=types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 1)))
    monkeypatch.setattr(cuda, "available", True)
    monkeypatch.setattr(cuda, "cupy", fake)
    assert str(updaters.default_device()) == "@numpy"


def test_bar_safe_stream_prints_whole_lines_above_the_bar():
    import io

    from tqdm.std import tqdm

    from edgelab.chainer.updaters import BarSafeStream

    plain = io.StringIO()
    out = BarSafeStream(None, plain)
    out.write("epoch  loss\n\033[J1  ")
    out.write("0.5\n")
    assert plain.getvalue() == "epoch  loss\n1  0.5\n"

    screen = io.StringIO()
    progress = TqdmProgress()
    progress._bar = tqdm(total=10, file=screen, desc="training", mininterval=0)
    progress._bar.update(3)
    BarSafeStream(progress, screen).write("\033[J1  0.5\n")
    progress._bar.close()
    text = screen.getvalue()
    assert "\n1  0.5\n" in text.replace("\r", "\n") and "[J" not in text
