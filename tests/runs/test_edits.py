"""The rules of ``runs.edits`` that the window and the lessons share: which loss goes with
which output activation, and what new data makes of them. No Qt."""

import itertools

import pytest

from backprop_lab.engine import data as data_mod
from backprop_lab.engine.activations import OUTPUT_ACTIVATIONS
from backprop_lab.engine.losses import LOSSES, REQUIRED_OUTPUT
from backprop_lab.runs.edits import (
    LossChoice,
    choose_loss,
    choose_output,
    fit_loss,
    loss_for_output,
)


def fits(output: str, loss: str) -> bool:
    return REQUIRED_OUTPUT.get(loss, output) == output


@pytest.mark.parametrize(("output", "loss", "expected"), [
    ("identity", "bce", LossChoice("sigmoid", "bce", "output")),
    ("tanh", "ce", LossChoice("softmax", "ce", "output")),
    ("softmax", "bce", LossChoice("sigmoid", "bce", "output")),
    ("sigmoid", "bce", LossChoice("sigmoid", "bce")),
    ("tanh", "mse", LossChoice("tanh", "mse")),
    ("softmax", "mse", LossChoice("softmax", "mse")),
])
def test_choosing_a_loss_brings_the_output_it_needs(output, loss, expected):
    assert choose_loss(output, loss) == expected


@pytest.mark.parametrize(("output", "loss", "expected"), [
    ("softmax", "bce", LossChoice("softmax", "ce", "loss")),
    ("sigmoid", "ce", LossChoice("sigmoid", "bce", "loss")),
    ("tanh", "bce", LossChoice("tanh", "mse", "loss")),
    ("identity", "ce", LossChoice("identity", "mse", "loss")),
    ("sigmoid", "mse", LossChoice("sigmoid", "mse")),
    ("relu", "mse", LossChoice("relu", "mse")),
    ("sigmoid", "bce", LossChoice("sigmoid", "bce")),
])
def test_choosing_an_output_brings_the_loss_that_fits_it(output, loss, expected):
    assert choose_output(output, loss) == expected


def test_every_choice_keeps_what_was_chosen_and_gives_a_pair_that_fits():
    for output, loss in itertools.product(OUTPUT_ACTIVATIONS, LOSSES):
        c = choose_loss(output, loss)
        assert c.loss == loss and fits(c.output, c.loss), (output, loss, c)
        assert (c.followed == "output") == (c.output != output)
        c = choose_output(output, loss)
        assert c.output == output and fits(c.output, c.loss), (output, loss, c)
        assert (c.followed == "loss") == (c.loss != loss)


def test_the_loss_for_an_output():
    assert [loss_for_output(o) for o in ("sigmoid", "softmax", "identity", "tanh")] == \
        ["bce", "ce", "mse", "mse"]


def inline(targets) -> data_mod.Dataset:
    inputs = [[float(i), 0.0] for i in range(len(targets))]
    return data_mod.build(data_mod.DataSpec(inputs=tuple(map(tuple, inputs)),
                                            targets=tuple(map(tuple, targets))))


def test_new_data_brings_a_loss_that_can_fit_its_targets():
    regression = data_mod.build(data_mod.DataSpec(dataset="plane"))
    assert regression.task == "regression"
    assert fit_loss("sigmoid", "bce", regression) == ("identity", "mse")
    assert fit_loss("softmax", "ce", regression) == ("identity", "mse")
    assert fit_loss("tanh", "mse", regression) == ("tanh", "mse")  # mse fits anything
    one_target = inline([[0], [1], [1], [0]])
    assert fit_loss("softmax", "ce", one_target) == ("sigmoid", "bce")
    assert fit_loss("softmax", "mse", one_target) == ("sigmoid", "mse")
    assert fit_loss("sigmoid", "bce", one_target) == ("sigmoid", "bce")
    not_one_hot = inline([[1, 1], [0, 1], [1, 0], [0, 0]])
    assert fit_loss("softmax", "ce", not_one_hot) == ("sigmoid", "bce")
    one_hot = data_mod.build(data_mod.DataSpec(dataset="gaussian", classes=3))
    assert fit_loss("softmax", "ce", one_hot) == ("softmax", "ce")
