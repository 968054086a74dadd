"""Lessons: the file format, the shipped lessons, and deterministic replay.

Every number a shipped caption or compare row states is checked here against what the
engine computes when the lesson is played.
"""

import json
import math

import numpy as np
import pytest
from tests.helpers import settle, wait_lesson

from backprop_lab.controller.lessons import LessonPlayer
from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.engine import presets
from backprop_lab.runs.lessons import (
    LessonError,
    list_lessons,
    load_lesson,
    parse_lesson,
    replay_step,
)

SHIPPED = ["01-article-xor", "02-learning-rate", "03-batch-vs-stochastic",
           "04-vanishing-gradients"]


@pytest.fixture
def backend():
    """Lessons are computed off the UI thread and loaded into the run in one go; the
    backend that trains afterwards is tested elsewhere: one is enough here."""
    return "thread"


@pytest.fixture
def stepper(session):
    return PhaseStepper(session)


class Played:
    """The player, with every move waited for (as a lecturer waits for the screen)."""

    def __init__(self, qtbot, player):
        self._qtbot, self._p = qtbot, player

    def __getattr__(self, name):
        attr = getattr(self._p, name)
        if name in ("start", "next", "back", "go"):
            def move(*args):
                attr(*args)
                wait_lesson(self._qtbot, self._p)
            return move
        return attr


@pytest.fixture
def player(qtbot, session, stepper):
    return Played(qtbot, LessonPlayer(session, stepper))


def lesson(name):
    return load_lesson(next(i.path for i in list_lessons() if i.name == name))


def losses(session):
    """The training loss of every epoch of the run: row k is epoch k (row 0 is the loss
    before training), checked here so the tests can index by epoch."""
    h = session.history
    np.testing.assert_array_equal(h.epochs.view(), np.arange(len(h)))
    assert len(h) == session.epoch + 1
    return h.train_loss.view().copy()


def caption(player):
    return player.step.caption


def weights(session):
    net = session.network
    return net.weights, net.biases


# -- the shipped lessons ------------------------------------------------------------------
def test_shipped_lessons_are_listed_in_file_order_and_valid():
    infos = list_lessons()
    assert [i.name for i in infos] == SHIPPED
    for info in infos:
        assert info.error is None, info.error
        les = load_lesson(info.path)
        assert les.title and les.summary and len(les.steps) == info.steps >= 5
        for step in les.steps:
            assert step.caption and step.title
            for a in step.actions:
                assert a.kind not in ("play", "pause")


@pytest.mark.parametrize("name", SHIPPED)
def test_every_lesson_plays_to_the_end(name, player, session):
    les = lesson(name)
    finished = []
    player.finished.connect(lambda: finished.append(True))
    player.start(les)
    seen = []
    while player.active:
        seen.append(player.index)
        # only the learning-rate lesson's divergence steps report something
        if name == "02-learning-rate" and player.index in (4, 5):
            assert player.message.startswith("Training diverged in epoch")
        else:
            assert player.message == "", (player.index, player.message)
        assert not session.running
        player.next()
    assert seen == list(range(len(les.steps)))
    assert finished == [True]
    assert player.lesson is None and player.step is None and player.count == 0


# -- lesson 1: the article's example --------------------------------------------------------
def test_article_lesson_forward_and_backward_steps(player, stepper):
    player.start(lesson("01-article-xor"))
    assert "(0, 0)" in caption(player) and stepper.reveal().phase.kind == "start"
    player.go(1)
    assert "a_Z1 = W10*X0 + W11*X1 + W12*X2 = 1*1 + 1*0 + 1*0 = 1" in stepper.reveal().lines
    player.go(2)
    assert "a_D0 = V00*Z0 + V01*Z1 + V02*Z2 + V03*Z3 = 1*1 + 1*1 + 1*1 + 1*1 = 4" in \
        stepper.reveal().lines
    player.go(3)
    assert stepper.reveal().lines[0].endswith("= 8")
    assert [(r.what, r.article, r.correct) for r in player.step.compare][1] == \
        ("error sent backwards", "actual − predicted = −4", "predicted − actual = +4")
    player.go(4)
    assert stepper.reveal().lines[0] == "delta_D0 = (D0 - y0) * f'(a_D0) = (4 - 0) * 1 = 4"
    assert [(r.article, r.correct) for r in player.step.compare] == [("−4", "+4")]
    player.go(5)
    lines = stepper.reveal().lines
    assert "delta_Z1 = V01 * delta_D0 * f'(a_Z1) = 1 * 4 * 1 = 4" in lines
    assert any("bias unit Z0 has no delta" in line for line in lines)
    assert player.step.compare[1].correct.startswith("none")


def test_article_lesson_update_step_has_the_correct_weights(player, session, stepper):
    player.start(lesson("01-article-xor"))
    player.go(6)
    r = stepper.reveal()
    assert r.phase.kind == "update"
    assert "W10 := W10 - alpha * X0 * delta_Z1 = 1 - 0.1 * 1 * 4 = 0.6" in r.lines
    assert "W11 := W11 - alpha * X1 * delta_Z1 = 1 - 0.1 * 0 * 4 = 1" in r.lines
    w, b = weights(session)
    np.testing.assert_allclose(b[0], 0.6)  # W10, W20, W30
    np.testing.assert_array_equal(w[0], 1.0)  # W11 ... W32: inputs were 0
    np.testing.assert_allclose(w[1], 0.6)  # V01 ... V03
    np.testing.assert_allclose(b[1], 0.6)  # V00
    rows = [(r.what, r.article, r.correct) for r in player.step.compare]
    assert rows[0] == ("W10, W20, W30 (input X0 = 1)", "1.4", "0.6")
    assert rows[1][1:] == ("1.4", "1.0 (unchanged)")


def test_article_lesson_the_step_helps_and_the_articles_step_hurts(player, stepper):
    player.start(lesson("01-article-xor"))
    player.go(7)
    r = stepper.reveal()
    assert r.phase.kind == "forward" and r.sample == 0
    assert r.lines[-1] == "D0 = f(a_D0) = a_D0 = 1.68"
    assert f"{0.5 * 1.68 ** 2:.2f}" == "1.41" and "1.41" in caption(player)
    # the article's weights (every one 1.4) on the same sample
    net = presets.load_preset("article-xor").network
    net.params[:] = 1.4
    assert net.predict(np.array([[0.0, 0.0]]))[0, 0] == pytest.approx(7.28)
    assert "7.28" in player.step.compare[0].article


def test_article_lesson_linear_network_reaches_the_floor(player, session):
    player.start(lesson("01-article-xor"))
    player.go(8)
    assert session.epoch == 3
    # epoch 0 (before training) starts the curve
    np.testing.assert_allclose(losses(session), [23.5, 1.315, 0.458, 0.257], atol=5e-4)
    assert "1.315, 0.458 and 0.257" in caption(player)
    player.go(9)
    assert session.epoch == 503
    assert session.snapshot.train_loss == pytest.approx(0.125, abs=1e-6)
    np.testing.assert_allclose(session.network.predict(session.dataset.x_train), 0.5,
                               atol=1e-3)
    assert player.step.compare[0].correct == "0.125: every output 0.5"
    # the caption's claims about the screen: a log axis, and outputs within 0.0002 of 0.5
    assert player.view_options["log"] is True
    out = session.network.predict(session.dataset.x_train)[:, 0]
    assert np.abs(out - 0.5).max() < 2e-4 and "0.0002" in caption(player)
    assert session.snapshot.train_accuracy == 0.75 and "75%" in caption(player)
    assert "loss_plot" in player.step.needed_views


def test_article_lesson_tanh_learns_xor(player, session):
    player.start(lesson("01-article-xor"))
    player.go(10)
    assert session.activations == ["tanh", "identity"]
    assert session.epoch == 0 and f"{session.snapshot.train_loss:.3f}" == "0.573"
    # the same start as the xor-tanh preset
    np.testing.assert_array_equal(session.params, presets.load_preset("xor-tanh").network.params)
    assert session.config == presets.load_preset("xor-tanh").training
    player.go(11)
    assert session.epoch == 300 and session.snapshot.train_loss < 1e-5
    out = session.network.predict(session.dataset.x_train)[:, 0]
    assert [f"{v:.3f}" for v in out] == ["0.001", "0.999", "0.999", "0.003"]


def test_article_lesson_equal_weights_stay_equal(player, session):
    player.start(lesson("01-article-xor"))
    player.go(12)
    assert session.activations == ["sigmoid", "sigmoid"]
    assert f"{session.snapshot.train_loss:.3f}" == "0.235"
    player.go(13)
    assert session.epoch == 3000
    w, b = weights(session)
    for i in (1, 2):  # Z2 and Z3 stay exact copies of Z1
        np.testing.assert_array_equal(w[0][i], w[0][0])
        assert b[0][i] == b[0][0]
        assert w[1][0, i] == w[1][0, 0]
    assert not np.allclose(w[0], 1.0)  # they did train
    assert f"{session.snapshot.train_loss:.3f}" == "0.099"
    assert player.step.compare[0].article == "claimed"
    player.go(14)
    w, _ = weights(session)
    assert not np.allclose(w[0][0], w[0][1]) and not np.allclose(w[0][1], w[0][2])
    assert f"{session.snapshot.train_loss:.3f}" == "0.006"
    out = session.network.predict(session.dataset.x_train)[:, 0]
    assert [f"{v:.2f}" for v in out] == ["0.11", "0.90", "0.88", "0.10"]


# -- deterministic replay -------------------------------------------------------------------
def state(session):
    return session.params.copy(), session.epoch, losses(session)


@pytest.mark.parametrize("there,back", [(5, 2), (9, 3), (13, 10), (14, 12)])
def test_back_and_forth_is_bit_identical(player, session, there, back):
    player.start(lesson("01-article-xor"))
    player.go(there)
    p1, e1, h1 = state(session)
    player.go(back)
    player.go(there)
    p2, e2, h2 = state(session)
    np.testing.assert_array_equal(p1, p2)
    assert e1 == e2
    np.testing.assert_array_equal(h1, h2)


def test_next_and_back_undo_what_the_user_did_in_between(player, session, stepper):
    player.start(lesson("01-article-xor"))
    player.go(9)
    p1, e1, h1 = state(session)
    session.set_config(learning_rate=0.3)  # the user experiments ...
    session.step_epochs(7)
    session.select_sample(2)
    stepper.set_scope("batch")
    settle(session)
    player.back()
    player.next()  # ... and the lesson puts everything back
    p2, e2, h2 = state(session)
    np.testing.assert_array_equal(p1, p2)
    assert e1 == e2 and session.config.learning_rate == 0.1
    np.testing.assert_array_equal(h1, h2)
    player.go(6)
    assert session.selected_sample == 0 and stepper.scope == "sample"


def test_view_options_follow_the_step(player):
    got = []
    player.view_option.connect(lambda o, v: got.append((o, v)))
    player.start(lesson("04-vanishing-gradients"))
    assert ("color_by", "gradient") in got and ("show", "gradient_plot") in got
    assert player.view_options == {"color_by": "gradient", "show": "gradient_plot"}
    got.clear()
    player.start(lesson("01-article-xor"))
    assert got[:3] == [("color_by", "weight"), ("weights", True), ("values", True)]


# -- lesson 2: the learning rate -------------------------------------------------------------
def test_learning_rate_lesson_numbers(player, session):
    player.start(lesson("02-learning-rate"))
    assert f"{session.snapshot.train_loss:.3f}" == "0.573"
    player.go(1)
    assert session.config.learning_rate == 0.01 and session.epoch == 300
    assert f"{session.snapshot.train_loss:.3f}" == "0.161"
    out = session.network.predict(session.dataset.x_train)[:, 0]
    assert [f"{v:.2f}" for v in out] == ["0.74", "0.34", "0.64", "0.42"]
    player.go(2)
    assert session.config.learning_rate == 0.5 and session.snapshot.train_loss < 1e-5
    h = losses(session)
    assert int(np.argmax(h < 1e-3)) == 188 and "below 0.001 by epoch 188" in caption(player)
    rises = np.flatnonzero(np.diff(h) > 0) + 1  # epochs whose loss is above the one before
    assert list(rises) == list(range(206, 216)) and "at epoch 206, it climbs for ten" in \
        caption(player)
    assert int(np.argmax(h)) == 215 and h[215] > h[0]  # higher than where it started
    assert f"{h[215]:.2f}" == "0.68" and "0.68 at epoch 215, higher than" in caption(player)
    assert int(np.argmax((h < 1e-5) & (np.arange(len(h)) > 215))) == 282
    assert player.view_options["log"] is True
    player.go(3)
    # epochs 0 (before training) to 6
    assert [f"{v:.3f}" for v in losses(session)[:7]] == \
        ["0.573", "0.898", "1.292", "0.646", "0.432", "0.505", "0.203"]
    assert "0.573, 0.898, 1.292, then down to 0.646 and 0.432, up to 0.505, down to " \
        "0.203" in caption(player)
    player.go(4)
    h = losses(session)
    assert int(np.argmin(h)) == 69 and f"{h.min():.3f}" == "0.007"  # row k is epoch k
    assert h[80] > 13_000 > h[79]  # "by epoch 80 ... over 13,000"
    # the loss passes its bound (1e10 * (1 + mean y^2) = 1.5e10) in epoch 87; the caption
    # also says where the old rule (overflow) would have stopped
    assert session.epoch == 86 and not session.running
    assert h[86] < 1.5e10 and "the loss reached" in player.message
    assert "epoch 87" in player.message and "In epoch 87 it passes 1.5e10" in caption(player)
    assert "overflow in epoch 344" in caption(player)
    player.go(5)
    h = losses(session)
    # after epochs 1, 2 and 3
    assert f"{h[1]:.2f}" == "0.52" and round(h[2]) == 103 and round(h[3], -1) == 16650
    assert session.epoch == 5 and "epoch 6" in player.message
    assert "diverges in epoch 6, when the loss passes 1.5e10" in caption(player)
    player.go(6)
    assert player.message == ""  # the summary step trains nothing itself


# -- lesson 3: batch, stochastic, minibatch ---------------------------------------------------
def test_batch_vs_stochastic_lesson_numbers(player, session):
    player.start(lesson("03-batch-vs-stochastic"))
    assert f"{session.snapshot.train_loss:.3f}" == "0.706"
    assert len(session.dataset.x_train) == 240 and len(session.dataset.x_test) == 60
    player.go(1)
    h = losses(session)
    assert session.config.mode == "batch" and len(h) == 31  # epochs 0 to 30
    assert (np.diff(h) < 0).all()
    assert f"{h[0]:.3f}" == "0.706" and f"{h[-1]:.3f}" == "0.678"
    player.go(2)
    h = losses(session)
    assert session.config.mode == "stochastic" and len(h) == 21  # epochs 0 to 20
    assert f"{h[4]:.3f}" == "0.124" and f"{h[13]:.3f}" == "0.212"  # epochs 4 and 13
    # epochs 1 to 20, each against the epoch before it (epoch 1 against the start)
    assert int((np.diff(h) > 0).sum()) == 7
    player.go(3)
    h = losses(session)
    assert session.config.learning_rate == 0.03
    assert (np.diff(h) < 0).all() and f"{h[-1]:.3f}" == "0.203"
    player.go(4)
    h = losses(session)
    assert (session.config.mode, session.config.batch_size, session.config.learning_rate) == \
        ("minibatch", 10, 0.3)
    assert (np.diff(h) < 0).all() and f"{h[-1]:.3f}" == "0.120"


# -- lesson 4: vanishing gradients -----------------------------------------------------------
def test_vanishing_gradients_lesson_numbers(player, session):
    player.start(lesson("04-vanishing-gradients"))
    g = session.snapshot.grad_norms
    assert [f"{v:.2g}" for v in reversed(g)] == \
        ["0.23", "0.083", "0.017", "0.0041", "0.00092", "0.00018"]
    assert 1250 < g[-1] / g[0] < 1350  # "about 1300 times"
    assert all(2.5 < g[i + 1] / g[i] < 5.5 for i in range(5))  # "3 to 5 each time"
    w0 = [w.copy() for w in session.network.weights]
    sigmoid_first = g[0]
    player.go(2)
    h = losses(session)
    assert len(h) == 51 and f"{h[-1]:.3f}" == "0.693" and f"{h[10]:.3f}" == "0.693"
    assert abs(h[-1] - math.log(2)) < 1e-3
    g = session.snapshot.grad_norms
    assert 100 < g[-1] / g[0] < 1000  # "hundreds of times"
    moved = [np.linalg.norm(b - a) / np.linalg.norm(a)
             for a, b in zip(w0, session.network.weights)]
    assert f"{100 * moved[0]:.1f}" == "0.1" and round(100 * moved[-1]) == 15
    player.go(3)
    g = session.snapshot.grad_norms
    assert session.activations[0] == "relu"
    assert [f"{v:.2g}" for v in reversed(g)] == \
        ["0.027", "0.024", "0.024", "0.018", "0.024", "0.0096"]
    assert 2.5 < g[-1] / g[0] < 3.5  # "about a third"
    assert 45 < g[0] / sigmoid_first < 60  # "about 50 times"
    w0 = [w.copy() for w in session.network.weights]
    player.go(4)
    h = losses(session)
    assert len(h) == 31  # epochs 0 to 30 of the ReLU run
    assert f"{h[0]:.2f}" == "0.70" and f"{h[10]:.3f}" == "0.037"  # "0.70 to 0.037 in 10"
    assert f"{h[11]:.2f}" == "0.33" and f"{h[30]:.2g}" == "0.0017"
    assert h[30] < h[12:30].mean() < h[10]  # after the jump it goes on falling
    assert "0.70 to 0.037 in 10 epochs" in caption(player)
    assert "epoch 11 it jumps back to 0.33" in caption(player)
    assert "to 0.0017 at epoch 30" in caption(player)
    moved = np.linalg.norm(session.network.weights[0] - w0[0]) / np.linalg.norm(w0[0])
    assert round(100 * moved, -1) == 40
    g = session.snapshot.grad_norms
    assert max(g) / min(g) < 10  # "within a few times of each other"
    # "the six curves of the Gradient norms plot": one point per epoch, six layers
    assert list(session.history.grad_epochs.view()) == list(range(31))
    assert len(session.history.grad_norms) == 6


# -- broken lesson files -------------------------------------------------------------------------
def good(**changes):
    d = {"format": "backprop-lab-lesson", "version": 1, "title": "T", "summary": "S",
         "preset": "article-xor",
         "steps": [{"caption": "first", "actions": []},
                   {"caption": "second", "actions": [{"action": "train", "epochs": 2}]}]}
    d.update(changes)
    return d


def write(tmp_path, obj, name="my-lesson.json"):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return p


def step2(**step):
    return good(steps=[{"caption": "first"}, dict({"caption": "second"}, **step)])


def test_a_good_file_loads(tmp_path):
    les = load_lesson(write(tmp_path, good()))
    assert les.name == "my-lesson" and len(les.steps) == 2
    assert les.steps[1].actions[0].kind == "train" and les.steps[1].actions[0]["epochs"] == 2


@pytest.mark.parametrize("obj,words", [
    (step2(actions=[{"action": "jump", "height": 2}]), ["step 2", "action 1", "unknown action",
                                                        "'jump'"]),
    (good(steps=[{"caption": "first"}, {"title": "no caption", "actions": []}]),
     ["step 2", "caption is missing"]),
    (step2(actions=[{"action": "load_preset", "name": "xor-tanh"}, {"action": "play"}]),
     ["step 2", "action 2 (play)", "not allowed", "train"]),
    (step2(actions=[{"action": "pause"}]), ["step 2", "action 1 (pause)", "not allowed"]),
    (step2(actions=[{"action": "train", "epochs": 0}]), ["step 2", "epochs"]),
    (step2(actions=[{"action": "train", "epochs": 10 ** 7}]), ["step 2", "epochs"]),
    (step2(actions=[{"action": "train"}]), ["step 2", "missing 'epochs'"]),
    (step2(actions=[{"action": "train", "epochs": 3, "speed": 1}]), ["unknown argument",
                                                                     "'speed'"]),
    (step2(actions=[{"action": "set", "key": "training.learning_rate", "value": -1}]),
     ["step 2", "learning_rate"]),
    (step2(actions=[{"action": "set", "key": "learning_rate", "value": 0.1}]),
     ["step 2", "unknown key", "training.learning_rate"]),
    (step2(actions=[{"action": "load_preset", "name": "nope"}]), ["unknown preset 'nope'"]),
    (step2(actions=[{"action": "phase", "kind": "loss", "layer": 1}]), ["layer only"]),
    (step2(actions=[{"action": "view", "option": "weights", "value": 1}]), ["value must be"]),
    (step2(actions=[{"action": "data", "dataset": "moon"}]), ["step 2", "unknown data.dataset"]),
    (step2(actions=[{"action": "init", "method": "uniform", "range": -1}]), ["range"]),
    (step2(actions="train"), ["actions must be a list"]),
    (step2(caption="loss < 0.01"), ["step 2", "not an allowed tag", "&lt;"]),
    (step2(caption="<script>x</script>"), ["step 2", "not an allowed tag"]),
    (step2(compare=[{"what": "x", "article": "1"}]), ["step 2", "missing 'correct'"]),
    (step2(captoin="typo"), ["step 2", "unknown key 'captoin'"]),
    (good(preset="nope"), ["unknown preset"]),
    (good(format="backprop-lab"), ["not a Backprop Lab lesson"]),
    (good(version=2), ["newer Backprop Lab"]),
    (good(steps=[]), ["non-empty list"]),
])
def test_bad_files_give_clear_errors(tmp_path, obj, words):
    with pytest.raises(LessonError) as e:
        load_lesson(write(tmp_path, obj))
    msg = str(e.value)
    assert msg.startswith("my-lesson.json")
    for w in words:
        assert w in msg, (w, msg)


def test_bad_json_and_missing_file(tmp_path):
    with pytest.raises(LessonError, match=r"^broken\.json: not valid JSON: .* line 1"):
        load_lesson(write(tmp_path, '{"format": "backprop-lab-lesson",', "broken.json"))
    with pytest.raises(LessonError, match="NaN is not allowed"):
        load_lesson(write(tmp_path, '{"version": NaN}', "nan.json"))
    with pytest.raises(LessonError, match="cannot read"):
        load_lesson(tmp_path / "absent.json")


def test_a_broken_file_is_listed_with_its_error(tmp_path):
    write(tmp_path, good(), "01-fine.json")
    write(tmp_path, step2(actions=[{"action": "play"}]), "02-broken.json")
    infos = list_lessons(tmp_path)
    assert [i.name for i in infos] == ["01-fine", "02-broken"]
    assert infos[0].error is None and infos[0].title == "T" and infos[0].steps == 2
    assert "02-broken.json: step 2" in infos[1].error
    assert list_lessons(tmp_path / "nowhere") == []


def test_captions_keep_allowed_markup_and_make_paragraphs():
    les = parse_lesson(step2(caption="<b>bold</b> and &lt;\nnext <sub>i</sub>"))
    html = les.steps[1].caption_html
    assert html.count("<p ") == 2 and "<b>bold</b> and &lt;" in html and "<sub>i</sub>" in html


# -- problems while playing -------------------------------------------------------------------
def test_a_failing_action_is_reported_not_raised(tmp_path, player, session):
    les = load_lesson(write(tmp_path, good(steps=[
        {"caption": "one"},
        {"caption": "two", "actions": [{"action": "phase", "kind": "forward", "layer": 5}]},
        {"caption": "three", "actions": [{"action": "select_sample", "index": 9}]}])))
    player.start(les)
    assert player.message == ""
    player.next()
    assert player.index == 1
    assert player.message.startswith("Step 2, action 1 (phase): this network has layers 1 to 2")
    player.go(0)
    assert player.message == ""


def test_training_that_diverges_is_reported_in_the_step(tmp_path, player, session):
    les = load_lesson(write(tmp_path, good(preset="xor-tanh", steps=[
        {"caption": "go", "actions": [
            {"action": "set", "key": "training.learning_rate", "value": 50},
            {"action": "train", "epochs": 500}]},
        {"caption": "after", "actions": [{"action": "view", "option": "values",
                                           "value": True}]}])))
    player.start(les)
    assert player.message.startswith("Training diverged in epoch 3: the loss reached")
    assert session.epoch == 2 and np.isfinite(session.params).all()
    player.next()  # the next step replays the divergence but does not report it again
    assert player.index == 1 and player.message == "" and session.epoch == 2
    player.back()
    assert player.message.startswith("Training diverged in epoch 3")


def long_replay(tmp_path):
    """A lesson whose second step trains long enough to be interrupted."""
    return load_lesson(write(tmp_path, good(preset="spiral", steps=[
        {"caption": "one"},
        {"caption": "two", "actions": [
            {"action": "train", "epochs": 20000},
            {"action": "view", "option": "values", "value": False}]}])))


@pytest.mark.parametrize("how", ["stop", "shutdown"])
def test_ending_while_a_step_is_prepared_applies_nothing(qtbot, tmp_path, session, stepper,
                                                         how):
    """End pressed (or the window closing) while a step that trains 20,000 epochs is being
    prepared off the UI thread: nothing is applied, the lesson ends at once, quietly."""
    p = LessonPlayer(session, stepper)
    p.start(long_replay(tmp_path))
    wait_lesson(qtbot, p)
    views, changes = [], []
    p.view_option.connect(lambda *a: views.append(a))
    p.changed.connect(lambda: changes.append(p.active))
    p.next()
    assert p.busy and p.index == 0 and session.epoch == 0
    qtbot.wait(300)  # it trains meanwhile, in the background
    if how == "stop":
        p.stop()
    else:
        p.stop()  # what the window does before it shuts the session down
        session.shutdown()
    assert not p.active and p.message == "" and changes[-1] is False
    qtbot.wait(500)
    assert session.epoch == 0 and views == []
    assert not p.active


def test_a_clicker_pressed_twice_quickly_shows_the_same_state_as_a_clean_replay(
        qtbot, session, stepper):
    """The bug: a second Page Down during a replay ran a replay inside the first; the window
    ended at step 2 with epoch 6,000 where a clean replay gives 4,500."""
    les = lesson("02-learning-rate")
    p = LessonPlayer(session, stepper)
    p.start(les)
    wait_lesson(qtbot, p)
    p.next()
    p.next()  # pressed again before the first finished
    wait_lesson(qtbot, p)
    clean = replay_step(les, 2)
    assert p.index == 2
    assert session.epoch == clean.state.epoch
    assert session.params.tobytes() == clean.state.params.tobytes()
    np.testing.assert_array_equal(session.history.train_loss.view(), clean.rows[:, 1])


def test_next_asked_while_a_diverged_step_still_finishes_is_computed(qtbot, session, stepper):
    """Step 5 of lesson 2 ends with a message (the divergence). Asking for step 6 the
    moment step 5 is shown, while its worker has not yet finished, used to leave the
    player busy for ever: the finished worker saw the message and computed nothing."""
    p = LessonPlayer(session, stepper)
    asked = []

    def on_applied(index: int) -> None:
        if index == 4 and not asked:
            asked.append(p._worker is not None)  # the worker of step 5 is still alive
            p.go(5)

    p.applied.connect(on_applied)
    p.start(lesson("02-learning-rate"))
    wait_lesson(qtbot, p)
    p.go(4)
    wait_lesson(qtbot, p)
    assert asked == [True]
    qtbot.waitUntil(lambda: not p.busy and p.index == 5, timeout=60_000)
    assert p.stage is not None and p.stage.index == 5
    p.stop()
