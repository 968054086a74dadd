"""Training: configuration, modes (batch, minibatch, stochastic) and divergence."""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass, replace

import numpy as np

from . import losses, optimizers, regularization
from . import update as one_update
from .network import Network

MODES = ("batch", "minibatch", "stochastic")
MAX_LEARNING_RATE = 1e3
MAX_SEED = 2 ** 63  # seeds are whole numbers from 0 to below this


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 2, 6, 6, 4
_REPR.maxstring, _REPR.maxother = 60, 60


def short_repr(v, limit: int = 40) -> str:
    """``repr(v)`` for a message, shortened in the middle when long (a 400-digit number,
    a list of thousands of values): at most about ``limit`` characters, one line."""
    try:
        text = _REPR.repr(v)
    except ValueError:  # an int with more digits than Python will print
        return "a number too large to print"
    except RecursionError:
        return f"a {type(v).__name__} nested too deeply to print"
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-limit // 2:]}"


@dataclass(frozen=True)
class TrainingConfig:
    learning_rate: float = 0.1
    mode: str = "batch"
    batch_size: int = 10
    loss: str = "mse"
    optimizer: str = "sgd"
    shuffle: bool = False
    seed: int = 0
    regularization: str = "none"
    regularization_rate: float = 0.0

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)) \
                or not math.isfinite(lr) \
                or lr <= 0:
            raise ValueError(f"training.learning_rate must be a positive number, not "
                             f"{short_repr(lr)}")
        if lr > MAX_LEARNING_RATE:
            raise ValueError(f"training.learning_rate {lr:g} is too large (at most "
                             f"{MAX_LEARNING_RATE:g})")
        if self.mode not in MODES:
            raise ValueError(f"unknown training.mode {short_repr(self.mode)} (choose from "
                             f"{', '.join(MODES)})")
        bs = self.batch_size
        if isinstance(bs, bool) or not isinstance(bs, (int, np.integer)) or bs < 1:
            raise ValueError(f"training.batch_size must be a whole number >= 1, not "
                             f"{short_repr(bs)}")
        if self.loss not in losses.LOSSES:
            raise ValueError(f"unknown training.loss {short_repr(self.loss)} (choose from "
                             f"{', '.join(losses.LOSSES)})")
        if self.optimizer not in optimizers.OPTIMIZERS:
            raise ValueError(f"unknown training.optimizer {short_repr(self.optimizer)} "
                             f"(choose from {', '.join(optimizers.OPTIMIZERS)})")
        if not isinstance(self.shuffle, bool):
            raise ValueError("training.shuffle must be true or false")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) \
                or self.seed < 0:
            raise ValueError(f"training.seed must be a whole number >= 0, not "
                             f"{short_repr(self.seed)}")
        if self.seed >= MAX_SEED:
            raise ValueError(f"training.seed must be below 2**63, not {short_repr(self.seed)}")
        if self.regularization not in regularization.REGULARIZATIONS:
            raise ValueError(f"unknown training.regularization "
                             f"{short_repr(self.regularization)} (choose from "
                             f"{', '.join(regularization.REGULARIZATIONS)})")
        r = self.regularization_rate
        if isinstance(r, bool) or not isinstance(r, (int, float, np.number)) \
                or not math.isfinite(r) \
                or r < 0:
            raise ValueError(f"training.regularization_rate must be a number >= 0, not "
                             f"{short_repr(r)}")

    def with_(self, **changes) -> TrainingConfig:
        return replace(self, **changes)

    def effective_batch_size(self, n_samples: int) -> int:
        if self.mode == "batch":
            return n_samples
        if self.mode == "stochastic":
            return 1
        return min(self.batch_size, n_samples)


class Divergence(ArithmeticError):
    """Training produced a NaN or Inf, a loss beyond the bound (``LOSS_LIMIT``) or weights
    too large to move; the weights from before the bad epoch are kept.

    ``hint`` says what to try; by default a smaller learning rate."""

    def __init__(self, epoch: int, what: str, hint: str = "try a smaller learning rate"):
        self.epoch = epoch
        self.what = what
        self.hint = hint
        super().__init__(f"Training diverged in epoch {epoch}: {what}. The weights from "
                         f"before that epoch are kept; {hint}.")


#: Beyond +-MAX_WEIGHT an update of a sane size may be lost to rounding: an epoch in which
#: none of these weights moved counts as divergence (training would stall silently).
MAX_WEIGHT = 1e100
_MAX_W2 = MAX_WEIGHT ** 2
#: data values beyond this make a divergence message suggest scaling the data
LARGE_DATA = 1e3
#: The loss rule: a train loss above LOSS_LIMIT * (1 + mean over samples of sum y^2) is
#: divergence. The scale is the targets': an output of zeros has the mse loss
#: 1/2 mean sum y^2, so any initialisation starts near (1 + that) or below; the bound is
#: 1e10 times it, where the outputs are some 1e5 times the targets' size (the "1 +"
#: keeps targets near 0 from making the bound tiny). No run that still learns goes there:
#: the lessons' largest losses are below 1e3, and a run that passes 1e10 has been growing
#: geometrically for many epochs and goes on to NaN or 1e100 weights, only hundreds of
#: epochs later (xor-tanh at learning rate 1 crosses it in epoch 113 and reaches 3e188 by
#: epoch 300 with finite weights, which the other rules never flagged). For bce and ce the
#: targets lie in [0, 1], so the bound is 1e10 to 2e10: a mean loss that large needs
#: logits of 1e10 on the wrong side (these losses grow like |logit|, computed from the
#: pre-activation, never clipped to a finite maximum).
LOSS_LIMIT = 1e10


def loss_bound(y: np.ndarray) -> float:
    """The train loss beyond which training counts as diverged (see ``LOSS_LIMIT``)."""
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0:
        return math.inf
    with np.errstate(over="ignore"):
        scale = float(np.mean(np.einsum("ij,ij->i", y, y)))
    return LOSS_LIMIT * (1.0 + scale) if math.isfinite(scale) else math.inf


def _max_abs(a: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        m = float(np.max(np.abs(a), initial=0.0))
    return m


def divergence_hint(params: np.ndarray, x: np.ndarray, y: np.ndarray) -> str:
    """What to try after a divergence, from the weights before the bad epoch and the data:
    new weights when they were already huge, scaled data when it holds large values,
    else a smaller learning rate."""
    w = _max_abs(params)
    if w > MAX_WEIGHT:
        return "re-initialise the weights or edit the largest ones"
    d = max(_max_abs(x), _max_abs(y))
    if d > LARGE_DATA:
        return (f"the data holds values up to {d:.3g}: normalise the inputs or scale the data "
                f"down, or try a smaller learning rate")
    return "try a smaller learning rate"


def check_compatible(net: Network, cfg: TrainingConfig, n_targets: int | None = None,
                     y: np.ndarray | None = None) -> None:
    """Raise ``ValueError`` if the loss, output activation and targets do not fit.

    ``n_targets`` is the number of target columns, ``y`` the targets themselves (one row
    per sample); either may be left out when it is not known yet. The message names the
    loss or the activation and says what to choose instead.
    """
    need = losses.REQUIRED_OUTPUT.get(cfg.loss)
    if need and net.output_activation != need:
        raise ValueError(f"loss {cfg.loss!r} needs output_activation {need!r}, not "
                         f"{net.output_activation!r}")
    if net.output_activation == "softmax" and net.layers[-1] < 2:
        raise ValueError("softmax needs at least 2 outputs; with one output use sigmoid"
                         + (" (and loss 'bce' instead of 'ce')" if cfg.loss == "ce" else ""))
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and n_targets is None:
            n_targets = y.shape[1]
    if n_targets is not None and n_targets != net.layers[-1]:
        raise ValueError(f"the data has {n_targets} target columns but the network has "
                         f"{net.layers[-1]} outputs")
    if y is None or y.size == 0:
        return
    if cfg.loss == "bce" and not ((y >= 0) & (y <= 1)).all():
        raise ValueError(f"loss 'bce' needs targets from 0 to 1, but the data has targets "
                         f"from {float(np.nanmin(y)):g} to {float(np.nanmax(y)):g}; use loss "
                         f"'mse' with an identity output for such targets")
    if cfg.loss == "ce":
        rows = y.reshape(len(y), -1)
        one_hot = (np.isin(rows, (0.0, 1.0)).all(axis=1) & (rows.sum(axis=1) == 1.0))
        if not one_hot.all():
            bad = int(np.argmin(one_hot))
            raise ValueError(f"loss 'ce' needs one-hot targets (each row 0s and a single 1), "
                             f"but target row {bad} is "
                             f"[{', '.join(f'{v:g}' for v in rows[bad])}]; use loss 'bce' "
                             f"with a sigmoid output for other targets from 0 to 1, or 'mse'")


class Trainer:
    """Trains a ``Network`` in place on one training set.

    ``run_epoch`` returns the mean data loss over the training set with the weights
    after the epoch. In batch mode the forward pass that measures it is reused by the
    next epoch, so an epoch costs one forward and one backward pass.
    """

    def __init__(self, net: Network, cfg: TrainingConfig, x: np.ndarray, y: np.ndarray):
        cfg.validate()
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or len(x) == 0:
            raise ValueError("training data must be two non-empty tables with one row per "
                             "sample")
        if x.shape[1] != net.layers[0]:
            raise ValueError(f"the data has {x.shape[1]} input columns but the network has "
                             f"{net.layers[0]} inputs")
        check_compatible(net, cfg, y.shape[1], y)
        self.net = net
        self.x, self.y = x, y
        self.loss_bound = loss_bound(y)
        self.cfg = cfg
        self.epoch = 0
        self.updates = 0  # optimiser steps taken by this trainer, over all epochs
        self.opt = optimizers.new_state(cfg.optimizer)
        self.rng = np.random.default_rng(cfg.seed)
        self._mask = net.weight_mask()
        self._grad = np.empty(net.n_params)
        self._grad_views = net.views(self._grad)
        self._cache = None  # forward pass of the whole training set, valid for the params
        self._cache_loss = math.nan

    # -- configuration ----------------------------------------------------------------
    def set_config(self, cfg: TrainingConfig) -> None:
        """Apply a new configuration between epochs (learning rate, mode ... live)."""
        cfg.validate()
        # the targets only need checking again when the loss changes
        check_compatible(self.net, cfg, y=self.y if cfg.loss != self.cfg.loss else None)
        if cfg.optimizer != self.cfg.optimizer:
            self.opt = optimizers.new_state(cfg.optimizer)
        if cfg.seed != self.cfg.seed:
            self.rng = np.random.default_rng(cfg.seed)
        if cfg.loss != self.cfg.loss:
            self._cache = None
        self.cfg = cfg

    def params_changed(self) -> None:
        """Call after editing ``net.params`` from outside."""
        self._cache = None

    @property
    def rng_state(self) -> dict:
        """The shuffle generator's state (plain ints and strings: JSON-able)."""
        return self.rng.bit_generator.state

    @rng_state.setter
    def rng_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state

    def reset_state(self) -> None:
        """Forget the optimiser state, the epoch count and the shuffle generator."""
        self.epoch = 0
        self.updates = 0
        self.opt = optimizers.new_state(self.cfg.optimizer)
        self.rng = np.random.default_rng(self.cfg.seed)
        self._cache = None

    # -- measuring --------------------------------------------------------------------
    def objective(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean data loss plus the regularisation penalty."""
        return one_update.objective(self.net, self.cfg, x, y, self._mask)

    def train_outputs(self) -> np.ndarray:
        """The network's outputs on the training set with the current weights (cached)."""
        self.train_loss()
        return self._cache.z[-1]

    def train_loss(self) -> float:
        """Mean data loss over the training set with the current weights."""
        if self._cache is None:
            self._cache = self.net.forward(self.x)
            c = self._cache
            self._cache_loss = losses.mean(self.cfg.loss, c.a[-1], c.z[-1], self.y)
        return self._cache_loss

    def gradient(self, x: np.ndarray, y: np.ndarray, cache=None) -> np.ndarray:
        """Gradient of mean data loss + penalty over the batch (x, y); a fresh array."""
        return one_update.gradient(self.net, self.cfg, x, y, cache=cache, mask=self._mask).grad

    def full_gradient(self) -> np.ndarray:
        """Gradient of the objective over the whole training set at the current weights,
        reusing the cached forward pass."""
        self.train_loss()
        return self.gradient(self.x, self.y, self._cache)

    # -- training ---------------------------------------------------------------------
    def next_batches(self) -> list[np.ndarray]:
        """Sample indices of each batch of the next epoch, in the order training will use
        them, without drawing from the shuffle generator (a copy of it draws)."""
        n = len(self.x)
        bs = self.cfg.effective_batch_size(n)
        if bs >= n:
            return [np.arange(n)]
        if self.cfg.shuffle:
            rng = np.random.default_rng()
            rng.bit_generator.state = self.rng.bit_generator.state
            order = rng.permutation(n)
        else:
            order = np.arange(n)
        return [order[k:k + bs] for k in range(0, n, bs)]

    def _order(self) -> np.ndarray | None:
        n = len(self.x)
        if self.cfg.effective_batch_size(n) >= n:
            return None
        return self.rng.permutation(n) if self.cfg.shuffle else np.arange(n)

    def _update(self, x: np.ndarray, y: np.ndarray, cache) -> None:
        one_update.update(self.net, self.cfg, self.opt, x, y, cache=cache, mask=self._mask,
                          out=self._grad, out_views=self._grad_views)
        self.updates += 1

    def _stalled(self, before: np.ndarray) -> bool:
        """True if weights beyond +-``MAX_WEIGHT`` exist and none of them moved in the epoch
        that started at ``before`` (their updates were lost to rounding)."""
        huge = np.abs(before) > MAX_WEIGHT
        return bool(huge.any()) and bool(np.array_equal(self.net.params[huge], before[huge]))

    def run_epoch(self) -> float:
        """One epoch; returns the training loss after it.

        Raises ``Divergence`` (weights restored to before the epoch) on NaN or Inf, on a
        loss beyond ``loss_bound`` (see ``LOSS_LIMIT``), on an Adam state that overflowed,
        and when weights beyond +-``MAX_WEIGHT`` no longer move.
        """
        net = self.net
        backup = net.params.copy()
        opt_backup = self.opt.copy()
        updates_backup = self.updates
        rng_backup = self.rng.bit_generator.state if self.cfg.shuffle else None
        order = self._order()
        if order is None:
            cache = self._cache if self._cache is not None else net.forward(self.x)
            self._update(self.x, self.y, cache)
        else:
            # Gather the epoch's order once; each batch is then a cheap slice (a view).
            x, y = (self.x[order], self.y[order]) if self.cfg.shuffle else (self.x, self.y)
            bs = self.cfg.effective_batch_size(len(x))
            for k in range(0, len(x), bs):
                xb, yb = x[k:k + bs], y[k:k + bs]
                self._update(xb, yb, net.forward(xb))
        self._cache = None
        loss = self.train_loss()
        # One pass over the weights finds NaN, Inf and weights so large that updates may be
        # lost to rounding (w - lr * g == w): then, if none of them moved, training stalls
        # and would go on silently. Adam squares the gradient: beyond about 1e154 the
        # square overflows, its steps become 0 / inf = 0 and the weights stop moving.
        # The fast path is one dot product: w.w <= MAX_WEIGHT^2 means every weight is finite
        # and within +-MAX_WEIGHT (NaN and overflow fail the comparison). A finite loss
        # beyond ``loss_bound`` is divergence too (see ``LOSS_LIMIT``): one comparison.
        v = self.opt.v
        v_ok = v is None or math.isfinite(v.max(initial=0.0))
        loss_ok = math.isfinite(loss) and loss <= self.loss_bound
        w_ok = float(net.params.dot(net.params)) <= _MAX_W2
        ok = loss_ok and v_ok and w_ok
        if not ok and math.isfinite(loss) and v_ok and not w_ok:  # the slow path
            biggest = float(np.abs(net.params).max(initial=0.0))
            ok = loss_ok and math.isfinite(biggest) and not (biggest > MAX_WEIGHT
                                                             and self._stalled(backup))
        if not ok:
            biggest = float(np.abs(net.params).max(initial=0.0))
            if not math.isfinite(biggest):
                what = "the weights became NaN or infinite"
            elif not math.isfinite(loss):
                what = f"the loss became {loss}"
            elif not v_ok:
                what = ("the gradients became too large for Adam (their squares overflow, "
                        "so its steps would be 0)")
            elif biggest > MAX_WEIGHT and self._stalled(backup):
                what = (f"the weights are too large to train (up to {biggest:.3g}; beyond "
                        f"{MAX_WEIGHT:.0e} updates are lost to rounding), so training stalled")
            else:
                what = (f"the loss reached {loss:.3g}, beyond {self.loss_bound:.3g} (1e10 "
                        f"times the targets' scale, 1 + mean y^2)")
            net.params[:] = backup
            self._cache = None
            self.opt = opt_backup
            self.updates = updates_backup
            if rng_backup is not None:
                self.rng.bit_generator.state = rng_backup
            raise Divergence(self.epoch + 1, what, divergence_hint(backup, self.x, self.y))
        self.epoch += 1
        return loss


#: the columns of a history row: what ``measure`` reports after every epoch
ROW_FIELDS = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")


def measure(trainer: Trainer, dataset, train_loss: float | None = None
            ) -> tuple[int, float, float, float, float]:
    """The history row of the trainer's current weights (see ``ROW_FIELDS``): the mean data
    loss on the training set (``train_loss`` if already known) and on the test set, and
    the accuracies for classification data; NaN where a value does not apply."""
    net = trainer.net
    cls = dataset.task == "classification"
    if train_loss is None:
        train_loss = trainer.train_loss()
    test_loss = test_acc = train_acc = math.nan
    if cls:
        train_acc = accuracy_of(trainer.train_outputs(), dataset.y_train)
    if dataset.has_test:
        c = net.forward(dataset.x_test)
        test_loss = losses.mean(trainer.cfg.loss, c.a[-1], c.z[-1], dataset.y_test)
        if cls:
            test_acc = accuracy_of(c.z[-1], dataset.y_test)
    return (trainer.epoch, float(train_loss), float(test_loss), train_acc, test_acc)


def accuracy(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples classified right: argmax for several outputs, threshold 0.5
    for one (targets 0/1)."""
    return accuracy_of(net.predict(x), y)


def accuracy_of(out: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of network outputs ``out`` against targets ``y`` (see ``accuracy``)."""
    if out.shape[1] == 1:
        return float(((out[:, 0] >= 0.5) == (y[:, 0] >= 0.5)).mean())
    return float((out.argmax(axis=1) == y.argmax(axis=1)).mean())
