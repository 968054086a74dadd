"""What a change of shape, activations, initialisation or data makes of a project. No Qt.

These are the rules the window and the lessons share (one place for each):

- A new shape, initialisation or data set is a new run: the network is initialised again
  from the project's seed.
- New activations keep the current weights (and the run's epoch count), so the same weights
  can be compared under another activation.
- New data brings the input and output layers to its number of columns. A loss that cannot
  fit the new targets changes together with the output activation, and the caller is told
  (``notice``): bce/ce on regression targets becomes mse with an identity output; softmax
  on one target becomes sigmoid (ce becomes bce); ce on targets that are not one-hot
  becomes bce with a sigmoid output.
- The loss and the output activation go together: bce needs a sigmoid output and ce a
  softmax output. Choosing such a loss brings its output along (``choose_loss``);
  choosing an output that the loss cannot use brings the loss that fits it
  (``choose_output``: sigmoid -> bce, softmax -> ce, any other -> mse).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..engine import data as data_mod
from ..engine.init import InitConfig, initialize
from ..engine.losses import REQUIRED_OUTPUT
from ..engine.network import Network
from ..engine.project import Project
from ..engine.training import TrainingConfig, check_compatible


def all_targets(ds: data_mod.Dataset) -> np.ndarray:
    """Training and test targets together (what a loss must be able to fit)."""
    return np.vstack([ds.y_train, ds.y_test]) if ds.has_test else ds.y_train


def check(project: Project, dataset: data_mod.Dataset) -> None:
    """Raise ``ValueError`` naming the problem if the network, loss and data do not fit."""
    net = project.network
    if dataset.n_inputs != net.layers[0]:
        raise ValueError(f"the data has {dataset.n_inputs} inputs but the network has "
                         f"{net.layers[0]}")
    check_compatible(net, project.training, dataset.n_targets, all_targets(dataset))


def _project(p: Project, network: Network, training: TrainingConfig | None = None,
             data: data_mod.DataSpec | None = None, init: InitConfig | None = None) -> Project:
    return Project(network, training or p.training, data or p.data, init or p.init,
                   dict(p.meta), p.lesson)


def with_structure(p: Project, dataset: data_mod.Dataset, layers: list[int],
                   hidden: str | list[str] | None = None,
                   output: str | None = None) -> Project:
    """The project with a network of this shape, initialised from the seed. Activations
    not given stay (one hidden activation for all layers when the depth changes)."""
    old = p.network
    if hidden is None:
        hidden = old.hidden_activation if len(layers) == len(old.layers) else \
            (old.hidden_activations[0] if old.hidden_activations else "tanh")
    net = Network(layers, hidden, output or old.output_activation)
    initialize(net, p.init)
    new = _project(p, net)
    check(new, dataset)
    return new


def with_activations(p: Project, dataset: data_mod.Dataset, params: np.ndarray,
                     hidden: str | list[str] | None = None, output: str | None = None,
                     loss: str | None = None) -> Project:
    """The project with other activations (and loss), keeping the weights ``params``."""
    old = p.network
    net = Network(old.layers, hidden or old.hidden_activation, output or old.output_activation,
                  params)
    cfg = p.training if loss is None else replace(p.training, loss=loss)
    cfg.validate()
    new = _project(p, net, training=cfg)
    check(new, dataset)
    return new


def with_init(p: Project, dataset: data_mod.Dataset, init: InitConfig) -> Project:
    """The project with weights drawn anew from ``init``."""
    init.validate()
    old = p.network
    net = Network(old.layers, old.hidden_activation, old.output_activation)
    initialize(net, init)
    new = _project(p, net, init=init)
    check(new, dataset)
    return new


def with_config(p: Project, dataset: data_mod.Dataset, **changes) -> Project:
    """The project with other training settings (validated against the data)."""
    cfg = replace(p.training, **changes)
    cfg.validate()
    check_compatible(p.network, cfg, y=all_targets(dataset))
    return _project(p, p.network.copy(), training=cfg)


@dataclass(frozen=True)
class DataChange:
    project: Project
    dataset: data_mod.Dataset
    #: what the user should be told (the loss had to change), or None
    notice: str | None


@dataclass(frozen=True)
class LossChoice:
    """An output activation and a loss that go together, and which of the two had to
    follow the one the user chose (``followed``: "output", "loss" or None)."""

    output: str
    loss: str
    followed: str | None = None


def loss_for_output(output: str) -> str:
    """The loss that fits an output activation: bce for sigmoid, ce for softmax, else mse."""
    return {v: k for k, v in REQUIRED_OUTPUT.items()}.get(output, "mse")


def choose_loss(output: str, loss: str) -> LossChoice:
    """The user chose ``loss`` while the output is ``output``: a loss that needs another
    output (bce: sigmoid, ce: softmax) brings it along."""
    need = REQUIRED_OUTPUT.get(loss)
    if need and need != output:
        return LossChoice(need, loss, "output")
    return LossChoice(output, loss)


def choose_output(output: str, loss: str) -> LossChoice:
    """The user chose ``output`` while the loss is ``loss``: if the loss needs another
    output, the loss becomes the one that fits ``output`` (``loss_for_output``)."""
    need = REQUIRED_OUTPUT.get(loss)
    if need and need != output:
        return LossChoice(output, loss_for_output(output), "loss")
    return LossChoice(output, loss)


def fit_loss(output: str, loss: str, dataset: data_mod.Dataset) -> tuple[str, str]:
    """The output activation and loss to use on ``dataset``, starting from these: the
    output the data needs, and the loss that goes with it (``choose_output``)."""
    y = all_targets(dataset)
    if dataset.task == "regression" and loss in ("bce", "ce"):
        c = choose_output("identity", loss)
    elif dataset.n_targets == 1 and output == "softmax":
        c = choose_output("sigmoid", loss)
    elif loss == "ce" and not np.all(np.isclose(y.sum(axis=1), 1.0)):
        c = choose_output("sigmoid", loss)  # several 0/1 targets per row, not one-hot
    else:
        return output, loss
    return c.output, c.loss


def with_data(p: Project, spec: data_mod.DataSpec,
              dataset: data_mod.Dataset | None = None) -> DataChange:
    """The project on new data: a new run from the same seed, with input and output layers
    that fit it and a loss that can fit its targets (see the module's rules)."""
    ds = dataset if dataset is not None else data_mod.build(spec)
    old_output, old_loss = p.network.output_activation, p.training.loss
    output, loss = fit_loss(old_output, old_loss, ds)
    layers = [ds.n_inputs] + list(p.network.layers[1:-1]) + [ds.n_targets]
    net = Network(layers, p.network.hidden_activation, output)
    initialize(net, p.init)
    new = _project(p, net, training=replace(p.training, loss=loss), data=spec)
    check(new, ds)
    notice = None
    if (output, loss) != (old_output, old_loss):
        notice = (f"The new data needs another loss: now {loss} with a {output} output "
                  f"(was {old_loss} with {old_output}).")
    return DataChange(new, ds, notice)
