"""The lesson format's view options: what a step needs on screen, pins, axes, highlights."""

from __future__ import annotations

import pytest

from backprop_lab.runs.lessons import LessonError, parse_lesson, replay_step


def lesson(*steps, preset="article-xor"):
    return {"format": "backprop-lab-lesson", "version": 1, "title": "t", "preset": preset,
            "steps": list(steps)}


def test_steps_say_what_they_need_on_screen():
    les = parse_lesson(lesson(
        {"caption": "a"},
        {"caption": "b", "compare": [{"what": "x", "article": "1", "correct": "2"}],
         "actions": [{"action": "phase", "kind": "loss"}]},
        {"caption": "c", "views": ["canvas", "caption", "loss_plot"]}))
    assert les.steps[0].needed_views == ("canvas", "caption")
    assert les.steps[1].needed_views == ("canvas", "caption", "table", "formulas")
    assert les.steps[2].needed_views == ("canvas", "caption", "loss_plot")


def test_pins_axes_and_highlights_reach_the_stage():
    les = parse_lesson(lesson({"caption": "a", "actions": [
        {"action": "view", "option": "pin", "value": "W10"},
        {"action": "view", "option": "log", "value": True},
        {"action": "view", "option": "y_range", "value": [0.1, 30]},
        {"action": "view", "option": "highlight", "value": ["Z1", "V01"]}]},
        {"caption": "b", "actions": [{"action": "view", "option": "pin", "value": "loss"},
                                     {"action": "view", "option": "y_range",
                                      "value": "auto"}]}))
    v = replay_step(les, 0).view_options
    assert v["pin"] == "W10" and v["log"] is True and v["y_range"] == (0.1, 30.0)
    assert v["highlight"] == ("Z1", "V01")
    v = replay_step(les, 1).view_options
    assert v["pin"] == "loss" and v["y_range"] == "auto" and v["log"] is True


@pytest.mark.parametrize("step,words", [
    ({"caption": "a", "views": ["canvas", "slides"]}, "views must list"),
    ({"caption": "a", "actions": [{"action": "view", "option": "y_range",
                                   "value": [3, 1]}]}, "low < high"),
    ({"caption": "a", "actions": [{"action": "view", "option": "pin", "value": 3}]},
     "must name a unit"),
    ({"caption": "a", "actions": [{"action": "view", "option": "highlight",
                                   "value": "Z1"}]}, "must be a list"),
])
def test_bad_view_options_are_named(step, words):
    with pytest.raises(LessonError, match=words):
        parse_lesson(lesson(step))


def test_a_pin_on_a_unit_the_network_lacks_fails_the_step():
    les = parse_lesson(lesson({"caption": "a", "actions": [
        {"action": "view", "option": "pin", "value": "Z7"}]}))
    stage = replay_step(les, 0)
    assert stage.failed and "Z7: no such unit or weight" in stage.message
