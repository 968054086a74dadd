"""Command line: ``backprop-lab`` opens the window; sub-commands work headless.

Every bad input prints one line on stderr naming the problem and exits with 2. Numbers
that are not finite are written as ``null`` in JSON output (never ``Infinity`` or
``NaN``), and numpy's floating-point warnings never reach stderr: the sub-commands check
their results themselves and say what went wrong in one line.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

from . import __version__

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise UsageError(message)


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="backprop-lab", description="Backprop Lab: backpropagation, made visible. "
                "Without a sub-command it opens the window.")
    p.add_argument("--version", action="version", version=f"backprop-lab {__version__}")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", help="open this preset (default: article-xor)")
    src.add_argument("--project", metavar="FILE", help="open this project file")
    p.add_argument("--screenshot", metavar="PATH",
                   help="build the window offscreen, train --epochs (or show --lesson at "
                        "--step), save it as PNG, exit")
    p.add_argument("--epochs", type=int, default=0, help="with --screenshot: epochs to train")
    p.add_argument("--size", default="1600x1000", help="with --screenshot: WxH (1600x1000)")
    p.add_argument("--lesson", metavar="ID",
                   help="show this lesson (its file name, e.g. 01-article-xor, or its "
                        "number)")
    p.add_argument("--step", type=int, metavar="K",
                   help="with --lesson: the step to show, from 1 as in the window")
    p.add_argument("--presentation", action="store_true",
                   help="presentation mode (full screen, large text)")
    p.add_argument("--theme", choices=("light", "dark"),
                   help="the colour theme (dark: the projector theme)")
    p.add_argument("--selftest", action="store_true",
                   help="offscreen check of every preset and the window; exit 0 if all is well")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def source(sp):
        g = sp.add_mutually_exclusive_group(required=True)
        g.add_argument("--preset", help="a preset name (see `backprop-lab presets`)")
        g.add_argument("--project", metavar="FILE", help="a project file (.json)")
        sp.add_argument("--csv", metavar="FILE",
                        help="train on this CSV file's rows instead (a header row; the "
                             "network's input and output layers follow its columns)")
        sp.add_argument("--targets", metavar="COLS",
                        help="with --csv: the target columns, comma-separated (default: "
                             "the last column)")
        sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting, e.g. training.learning_rate=0.5 "
                             "(repeatable)")

    t = sub.add_parser("train", help="train headless and report the loss")
    source(t)
    t.add_argument("--epochs", type=int, default=100, help="epochs to train (default 100)")
    t.add_argument("--save", metavar="FILE", help="save the trained project here")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.add_argument("--export-csv", metavar="FILE",
                   help="also write the data (raw inputs and targets, training then test "
                        "rows) as CSV")

    s = sub.add_parser("step", help="one stochastic step on one sample, written out")
    source(s)
    s.add_argument("--sample", type=int, default=0, help="training sample index (from 0)")
    s.add_argument("--json", action="store_true", help="print one JSON object")

    c = sub.add_parser("compare", help="train variants that differ in one setting, side by side")
    source(c)
    c.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a setting and its values, e.g. training.learning_rate=0.01,0.1,1")
    c.add_argument("--epochs", type=int, default=None,
                   help="epochs per variant (default: the saved comparison's, else 100)")
    c.add_argument("--json", action="store_true", help="print one JSON object")

    sub.add_parser("presets", help="list the presets")

    b = sub.add_parser("bench", help="measure training (and window) speed")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--seconds", type=float, default=2.0, help="time per engine measurement")
    b.add_argument("--no-gui", action="store_true", help="skip the window measurements")
    return p


def _load(args) -> tuple:
    """(project, dataset) from --preset/--project and --set, or UsageError."""
    from .engine import data, presets
    from .engine.project import ProjectError, apply_overrides, from_dict, load

    try:
        if args.preset:
            d = presets.preset_dict(args.preset)
        else:
            path = Path(args.project)
            proj = load(path)  # validates and names the file in errors
            d = proj.to_dict()
        base = None if args.preset else Path(args.project).absolute().parent
        if args.set:
            d = apply_overrides(d, args.set)
            proj = from_dict(d, base)
        elif args.preset:
            proj = from_dict(d)
        if getattr(args, "csv", None):
            from .runs import edits

            targets = [t.strip() for t in args.targets.split(",")] if args.targets else None
            spec = data.csv_spec(Path(args.csv).absolute(), targets,
                                 test_fraction=proj.data.test_fraction or None)
            change = edits.with_data(proj, spec)
            return change.project, change.dataset
        if getattr(args, "targets", None):
            raise UsageError("--targets goes with --csv")
        dataset = data.build(proj.data)
        return proj, dataset
    except ProjectError as e:
        raise UsageError(str(e)) from None
    except ValueError as e:
        raise UsageError(str(e)) from None


def json_safe(obj):
    """``obj`` with every float that is not finite (inf, -inf, NaN) replaced by None,
    so that ``json.dumps(..., allow_nan=False)`` writes valid JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def print_json(obj) -> None:
    print(json.dumps(json_safe(obj), allow_nan=False))


def _progress(done: int, total: int, loss: float, t0: float) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.perf_counter() - t0, 1e-9)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} epochs  "
                     f"loss {loss:.6g}  {rate:,.0f} epochs/s")
    sys.stderr.flush()


def cmd_train(args) -> int:
    import numpy as np

    from .engine.project import ProjectError, check_save_target, save
    from .engine.training import Divergence, Trainer, measure

    if args.epochs < 0:
        raise UsageError(f"--epochs must be >= 0, not {args.epochs}")
    if args.save is not None:  # before training: nobody waits to learn it cannot be saved
        try:
            check_save_target(args.save)
        except ProjectError as e:
            raise UsageError(f"--save: {e}") from None
    proj, ds = _load(args)
    try:
        trainer = Trainer(proj.network, proj.training, ds.x_train, ds.y_train)
    except ValueError as e:
        raise UsageError(str(e)) from None
    train_loss, test_loss = [], []
    show = not args.json and sys.stderr.isatty()
    t0 = time.perf_counter()
    last_draw = 0.0
    error = None
    for k in range(args.epochs):
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                _, loss, test, _, _ = measure(trainer, ds, trainer.run_epoch())
        except Divergence as e:
            error = str(e)
            break
        train_loss.append(loss)
        if ds.has_test:
            test_loss.append(test)
        if show and time.perf_counter() - last_draw > 0.1:
            _progress(k + 1, args.epochs, train_loss[-1], t0)
            last_draw = time.perf_counter()
    elapsed = time.perf_counter() - t0
    if show:
        _progress(len(train_loss), args.epochs, train_loss[-1] if train_loss else float("nan"),
                  t0)
        sys.stderr.write("\n")
    if error:
        print(f"backprop-lab: {error}", file=sys.stderr)
        return 1
    if args.save is not None:
        try:
            save(proj, args.save)
        except ProjectError as e:
            raise UsageError(str(e)) from None
    if args.export_csv:
        from .engine.data import write_csv

        try:
            write_csv(args.export_csv, ds)
        except (OSError, ValueError) as e:
            raise UsageError(f"--export-csv: {e}") from None
    from .engine.metrics import evaluate

    with np.errstate(all="ignore"):
        scores = evaluate(proj.network, ds)
    if args.json:
        out = {"epochs": len(train_loss), "train_loss": train_loss}
        if ds.has_test:
            out["test_loss"] = test_loss
        out["metrics"] = scores
        out["project"] = proj.to_dict()
        print_json(out)
        return 0
    last = train_loss[-1] if train_loss else trainer.train_loss()
    print(f"trained {len(train_loss)} epochs in {elapsed:.2f} s "
          f"({len(train_loss) / max(elapsed, 1e-9):,.0f} epochs/s)")
    print(f"train loss: {last:.6g}" + (f"   test loss: {test_loss[-1]:.6g}"
                                       if test_loss else ""))
    for part, m in scores.items():
        shown = [f"{k} {v:.4g}" for k, v in m.items() if isinstance(v, float)]
        if shown:
            print(f"{part}: " + ", ".join(shown))
    if args.save is not None:
        print(f"saved {args.save}")
    return 0


def cmd_step(args) -> int:
    from .engine.explain import explain, step_json
    from .engine.trace import trace_step

    proj, ds = _load(args)
    n = len(ds.x_train)
    if not 0 <= args.sample < n:
        raise UsageError(f"--sample {args.sample} is out of range: the training set has {n} "
                         f"samples (0 to {n - 1})")
    cfg = proj.training.with_(mode="stochastic")
    t = trace_step(proj.network, cfg, ds.x_train[args.sample], ds.y_train[args.sample])
    if args.json:
        print_json(step_json(t))
    else:
        print(f"One stochastic step on sample {args.sample}: inputs "
              f"{', '.join(f'{v:g}' for v in ds.x_train[args.sample])}, target "
              f"{', '.join(f'{v:g}' for v in ds.y_train[args.sample])}\n")
        print(explain(t))
    return 0


def cmd_compare(args) -> int:
    from .runs.compare import CompareError
    from .runs.compare import main as compare

    try:
        return compare(args)
    except CompareError as e:
        raise UsageError(str(e)) from None


def cmd_presets(args) -> int:
    from .engine.presets import list_presets

    infos = list_presets()
    width = max(len(i.name) for i in infos)
    for i in infos:
        print(f"{i.name:<{width}}  {i.title}: {i.description}")
    return 0


def cmd_bench(args) -> int:
    from .bench import run_bench

    return run_bench(json_out=args.json, seconds=args.seconds, gui=not args.no_gui)


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 200 or h < 150 or w > 8000 or h > 8000:
            raise ValueError
        return w, h
    except ValueError:
        raise UsageError(f"--size {text!r}: expected WxH such as 1600x1000") from None


def resolve_lesson(text: str) -> tuple[str, int]:
    """A shipped lesson named on the command line: its file name (with or without
    ``.json``) or its number (``1`` is ``01-...``). Returns (file name, number of
    steps); UsageError names the choices."""
    from .runs.lessons import list_lessons

    infos = list_lessons()
    key = text.strip()
    key = key[:-5] if key.lower().endswith(".json") else key
    found = None
    if key.isdigit():
        k = int(key)
        found = next((i for i in infos if i.name.split("-", 1)[0].isdigit()
                      and int(i.name.split("-", 1)[0]) == k), None)
        if found is None and 1 <= k <= len(infos):
            found = infos[k - 1]
    else:
        found = next((i for i in infos if i.name == key), None)
    if found is None:
        names = ", ".join(i.name for i in infos)
        raise UsageError(f"--lesson {text!r}: no such lesson (choose from {names}, or a "
                         f"number from 1 to {len(infos)})")
    if found.error:
        raise UsageError(f"--lesson {text!r}: {found.error}")
    return found.name, found.steps


def _stage_options(args) -> tuple[str | None, int]:
    """The lesson and step asked for (checked before any window opens)."""
    if args.lesson is None:
        if args.step is not None:
            raise UsageError("--step needs --lesson")
        return None, 1
    if args.preset or args.project:
        raise UsageError("--lesson brings its own network: leave out --preset and --project")
    if args.epochs:
        raise UsageError("--epochs does not apply to a lesson step")
    name, count = resolve_lesson(args.lesson)
    step = 1 if args.step is None else args.step
    if not 1 <= step <= count:
        raise UsageError(f"--step {step} is out of range: lesson {name} has {count} steps "
                         f"(1 to {count})")
    return name, step


def run_gui(args) -> int:
    """Open the window (or, with --screenshot/--selftest, work offscreen)."""
    if args.selftest:
        from .selftest import run_selftest

        return run_selftest()
    size = _parse_size(args.size)
    if args.epochs < 0:
        raise UsageError(f"--epochs must be >= 0, not {args.epochs}")
    lesson, step = _stage_options(args)
    try:
        from .ui.app import run_app
    except ImportError as e:  # the window is not available in this build
        print(f"backprop-lab: the window cannot start: {e}", file=sys.stderr)
        return 1
    return run_app(preset=args.preset, project=args.project, screenshot=args.screenshot,
                   epochs=args.epochs, size=size, lesson=lesson, step=step,
                   presentation=args.presentation, theme=args.theme)


COMMANDS = {"train": cmd_train, "step": cmd_step, "presets": cmd_presets, "bench": cmd_bench,
            "compare": cmd_compare}


def _one_line(message: str, limit: int = 400) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else f"{message[:limit // 2]} ... " \
                                                  f"{message[-limit // 2:]}"


def _run_quietly(command, args) -> int:
    """Run a sub-command with numpy's floating-point warnings off: overflow and NaN are
    found by the engine (divergence, data checks) and reported in one line instead."""
    import numpy as np

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return command(args)


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in and args_in[0] == "--train-server":  # the window's training process (hidden)
        from .runs.server import main as serve_training

        return serve_training()
    if args_in and args_in[0] == "--compare-server":  # the window's comparison (hidden)
        from .runs.compare_server import main as serve_comparison

        return serve_comparison()
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            return run_gui(args)
        return _run_quietly(COMMANDS[args.command], args)
    except UsageError as e:
        print(f"backprop-lab: error: {_one_line(str(e))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print("backprop-lab: error: out of memory", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("backprop-lab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def main_gui() -> int:
    """Entry point for the windowed launcher (no console on Windows)."""
    return main()


if __name__ == "__main__":
    sys.exit(main())
