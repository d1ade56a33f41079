"""A Chainer updater that trains one shared trunk under several classifier heads.

Why this module exists
----------------------
Chainer splits a training loop into parts you can replace one at a time: the *iterator*
makes batches, the *updater* turns one batch into one parameter update, the *trainer*
repeats that and calls *extensions* (logging, evaluation, plots, snapshots) on triggers.
``StandardUpdater`` handles the common case: one model, one optimizer, one loss. A
multi-task network is the classic case that needs a custom updater: one **trunk** computes
features, several **heads** each solve their own task from them, and

* every head's loss must flow back into the trunk: the trunk's gradient is the sum of
  what each head sends it (backpropagating the summed loss gives exactly that sum, in one
  backward pass through the trunk);
* each part has **its own optimizer**, so each can have its own learning rate or hooks,
  and a head can be **frozen** by simply not calling its optimizer's ``update()`` (its
  gradient is still computed and still shapes the trunk, but its weights stay put);
* each head's loss and accuracy are reported under their own key, so ``LogReport``,
  ``PrintReport`` and ``PlotReport`` show every task.

Pieces
------
:class:`MultiHeadClassifier`
    A ``Chain`` holding ``trunk`` and the named heads. Called as ``model(x, t_1, ..., t_N)``
    (one label array per head, in head order) it returns the weighted total loss and
    reports ``loss``, ``<head>/loss`` and ``<head>/accuracy`` with itself as observer:
    under a ``Trainer`` they appear as ``main/<head>/loss``, under an ``Evaluator`` as
    ``validation/main/<head>/loss``.
:class:`MultiHeadUpdater`
    The ``StandardUpdater`` subclass. One optimizer per part, in a dict keyed by name
    (``"trunk"`` and the head names by convention); it checks that every parameter of
    the model is updated by exactly one optimizer. Devices go through Chainer's device API
    (``device="@numpy"``, ``"@cupy:0"``, or a ``chainer.get_device(...)`` object): the
    model is sent there and each batch is converted onto ``self.device``.
:func:`default_device`
    ``@cupy:0`` when a GPU is usable, else ``@numpy``.
:class:`TqdmProgress`
    A trainer extension: a tqdm progress bar over the iterations of ``trainer.run()``.
:class:`ResumablePlotReport`
    Chainer's ``PlotReport`` with one fix for resuming from a snapshot (see its docstring).

Because the optimizers are not named ``"main"``, extensions that look up the main
optimizer by default (``observe_lr``, ``ExponentialShift``) need ``optimizer_name=`` /
``optimizer=`` given explicitly.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from edgelab.chainer.compat import chainer

import chainer.functions as F  # noqa: E402  (after the NumPy-2 fix above)
from chainer.dataset import convert  # noqa: E402
from chainer.training import extensions, updaters  # noqa: E402


class MultiHeadClassifier(chainer.Chain):
    """A shared ``trunk`` link followed by named classifier ``heads``.

    ``heads``: ordered mapping name -> link (features -> logits). ``loss_weights``: optional
    mapping name -> weight of that head's loss in the total (default 1 each).
    """

    def __init__(self, trunk: chainer.Link, heads: Mapping[str, chainer.Link], *,
                 loss_weights: Mapping[str, float] | None = None):
        super().__init__()
        if not heads:
            raise ValueError("MultiHeadClassifier needs at least one head")
        reserved = {"trunk", "head_names", "loss_weights"}
        for name in heads:
            if not str(name).isidentifier() or name in reserved or hasattr(self, name):
                raise ValueError(f"head name {name!r} must be a Python identifier that is not "
                                 "already an attribute of the model (e.g. 'digit', not 'trunk' "
                                 "or 'params')")
        weights = dict(loss_weights or {})
        unknown = set(weights) - set(heads)
        if unknown:
            raise ValueError(f"loss_weights names unknown heads {sorted(unknown)}; heads: "
                             f"{list(heads)}")
        self.head_names = tuple(heads)
        self.loss_weights = {name: float(weights.get(name, 1.0)) for name in heads}
        with self.init_scope():
            self.trunk = trunk
            for name, head in heads.items():
                setattr(self, name, head)

    @property
    def heads(self) -> dict[str, chainer.Link]:
        return {name: getattr(self, name) for name in self.head_names}

    def forward(self, x, *targets):
        if len(targets) != len(self.head_names):
            raise ValueError(f"{type(self).__name__} has {len(self.head_names)} heads "
                             f"{list(self.head_names)} and needs one label array per head, got "
                             f"{len(targets)}; batches should be (x, {', '.join(self.head_names)})")
        features = self.trunk(x)
        total = 0
        for name, t in zip(self.head_names, targets):
            logits = getattr(self, name)(features)
            loss = F.softmax_cross_entropy(logits, t)
            chainer.report({f"{name}/loss": loss, f"{name}/accuracy": F.accuracy(logits, t)}, self)
            total = total + self.loss_weights[name] * loss
        chainer.report({"loss": total}, self)
        return total

    def predict(self, x) -> dict[str, object]:
        """Class predictions of every head for a batch ``x`` (arrays on x's device)."""
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            features = self.trunk(x)
            return {name: F.argmax(getattr(self, name)(features), axis=1).array
                    for name in self.head_names}


def default_device():
    """The first GPU through CuPy when Chainer can use one, else the CPU (NumPy).

    A ``chainer.backend.Device``: pass it as ``device=`` to updaters and evaluators, and to
    ``concat_examples(batch, device)``; ``device.send(array)`` moves arrays there.
    """
    from chainer.backends import cuda

    if cuda.available:
        try:
            if cuda.cupy.cuda.runtime.getDeviceCount() > 0:
                return chainer.get_device("@cupy:0")
        except Exception:  # noqa: BLE001 - CuPy raises driver-specific errors without a GPU
            pass
    return chainer.get_device("@numpy")


def _param_ids(link: chainer.Link) -> dict[int, str]:
    return {id(p): path for path, p in link.namedparams()}


class MultiHeadUpdater(updaters.StandardUpdater):
    """Trains a :class:`MultiHeadClassifier` with one optimizer per part.

    ``optimizers``: mapping name -> optimizer already ``setup()`` on the trunk or a head
    (or any sub-link of ``model``); together they must cover every parameter exactly once.
    ``frozen``: names of optimizers whose ``update()`` is skipped (settable later).
    """

    def __init__(self, iterator, model: MultiHeadClassifier,
                 optimizers: Mapping[str, chainer.Optimizer], *,
                 converter=convert.concat_examples, device=None, frozen: Iterable[str] = (),
                 loss_scale=None, auto_new_epoch: bool = True, input_device=None):
        if not isinstance(optimizers, Mapping) or not optimizers:
            raise ValueError("optimizers must be a non-empty dict name -> optimizer, one per "
                             "part of the model (e.g. {'trunk': ..., 'digit': ...})")
        self.model = model
        self._check_coverage(model, optimizers)
        if device is not None:
            model.to_device(chainer.get_device(device))
        super().__init__(iterator, dict(optimizers), converter=converter, device=device,
                         loss_scale=loss_scale, auto_new_epoch=auto_new_epoch,
                         input_device=input_device)
        self.frozen = frozen

    @staticmethod
    def _check_coverage(model: chainer.Link, optimizers: Mapping[str, chainer.Optimizer]):
        names = _param_ids(model)
        owner: dict[int, str] = {}
        for opt_name, opt in optimizers.items():
            target = getattr(opt, "target", None)
            if target is None:
                raise ValueError(f"optimizer {opt_name!r} has no target: call "
                                 f"optimizer.setup(link) before building the updater")
            for pid, path in _param_ids(target).items():
                if pid not in names:
                    raise ValueError(f"optimizer {opt_name!r} updates a parameter ({path}) "
                                     "that is not part of the model")
                if pid in owner:
                    raise ValueError(f"parameter {names[pid]} is updated by two optimizers, "
                                     f"{owner[pid]!r} and {opt_name!r}; give each part one")
                owner[pid] = opt_name
        missing = sorted(path for pid, path in names.items() if pid not in owner)
        if missing:
            raise ValueError(f"no optimizer updates {', '.join(missing[:4])}"
                             f"{' ...' if len(missing) > 4 else ''}; add one for that part")

    @property
    def frozen(self) -> frozenset[str]:
        return self._frozen

    @frozen.setter
    def frozen(self, names: Iterable[str]) -> None:
        names = frozenset([names] if isinstance(names, str) else names)
        unknown = names - set(self._optimizers)
        if unknown:
            raise ValueError(f"cannot freeze {sorted(unknown)}: no such optimizer; the "
                             f"optimizers are {sorted(self._optimizers)}")
        self._frozen = names

    def connect_trainer(self, trainer) -> None:
        # The model reports per-head values with itself as observer; register it as "main"
        # so the keys read main/<head>/loss (the trainer only registers optimizer targets).
        trainer.reporter.add_observer("main", self.model)

    def update_core(self) -> None:
        iterator = self.get_iterator("main")
        batch = iterator.next()
        in_arrays = self.converter(batch, self.input_device)
        if not isinstance(in_arrays, tuple):
            raise TypeError("MultiHeadUpdater needs batches of tuples (x, t_1, ..., t_N); "
                            f"the converter returned {type(in_arrays).__name__}")
        for optimizer in self._optimizers.values():
            optimizer.target.cleargrads()
        loss = self.model(*in_arrays)
        # One backward pass: the trunk receives the sum of every head's gradient.
        loss.backward(loss_scale=self.loss_scale)
        for name, optimizer in self._optimizers.items():
            if name not in self._frozen:
                optimizer.update()
        if self.auto_new_epoch and iterator.is_new_epoch:
            for optimizer in self._optimizers.values():
                optimizer.new_epoch(auto=True)


class TqdmProgress(chainer.training.Extension):
    """A tqdm bar over the iterations of ``trainer.run()`` (resumed runs start part-way)."""

    trigger = (1, "iteration")
    priority = chainer.training.PRIORITY_READER

    def __init__(self, desc: str = "training", update_interval: int = 10):
        self.desc = desc
        self.update_interval = max(1, int(update_interval))
        self._bar = None

    @staticmethod
    def total_iterations(trainer) -> int | None:
        stop = trainer.stop_trigger
        period, unit = getattr(stop, "period", None), getattr(stop, "unit", None)
        if unit == "iteration":
            return int(period)
        if unit == "epoch":
            it = trainer.updater.get_iterator("main")
            size, batch = len(getattr(it, "dataset", ())), getattr(it, "batch_size", 0)
            if size and batch:
                return math.ceil(period * size / batch)
        return None

    def initialize(self, trainer) -> None:
        from edgelab.core.progress import bar as tqdm

        self._bar = tqdm(total=self.total_iterations(trainer), initial=trainer.updater.iteration,
                         desc=self.desc, unit="it", leave=False, mininterval=2.0)

    def __call__(self, trainer) -> None:
        it = trainer.updater.iteration
        if self._bar is not None and (it % self.update_interval == 0 or
                                      it == self._bar.total):
            self._bar.update(it - self._bar.n)

    def finalize(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class ResumablePlotReport(extensions.PlotReport):
    """``PlotReport`` that also saves *when* it last plotted, so a resumed run plots correctly.

    Chainer 7.8.1's ``PlotReport`` keeps its own interval trigger but snapshots only the
    plotted points. After ``load_npz(snapshot, trainer)`` the fresh trigger believes no
    epoch has passed, fires on the first iteration of the resumed run and adds a spurious
    point (the loss of one batch) at the resume epoch. ``LogReport`` saves its trigger and
    does not have the problem; this class does the same. Same arguments as ``PlotReport``.
    """

    def serialize(self, serializer) -> None:
        super().serialize(serializer)
        trigger = getattr(self, "_trigger", None)
        if hasattr(trigger, "serialize"):
            trigger.serialize(serializer["_trigger"])
