"""A soak: the spiral trains at full speed in the window while its memory is sampled.

The history is bounded (``runs.timeline``: compact rows folded into min/max buckets past
a budget, thinned checkpoints), so after the first minute RSS must stay flat: growth is
reported and bounded. CI runs it for ``BACKPROP_LAB_SOAK_SECONDS`` (default 45); the
README's figure comes from a 600-second run.
"""

from __future__ import annotations

import os
import time

import numpy as np

SECONDS = float(os.environ.get("BACKPROP_LAB_SOAK_SECONDS", "45"))


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_the_spiral_trains_for_minutes_with_flat_memory(qtbot, window, record_property):
    s = window.session
    s.load_preset("spiral")
    s.play()
    samples: list[tuple[float, float, int]] = []
    t0 = time.perf_counter()
    while (now := time.perf_counter() - t0) < SECONDS:
        qtbot.wait(1000)
        samples.append((now, _rss_mb(), s.epoch))
    s.pause()
    t = np.array([x[0] for x in samples])
    rss = np.array([x[1] for x in samples])
    epochs = samples[-1][2]
    # after the warm-up third (caches, plots' first buffers) the memory stays flat
    warm = rss[t >= SECONDS / 3]
    growth = float(warm.max() - warm[0])
    nbytes = s.timeline.nbytes / 2**20
    record_property("soak_seconds", SECONDS)
    record_property("soak_epochs", epochs)
    record_property("soak_rss_start_mb", round(float(rss[0]), 1))
    record_property("soak_rss_end_mb", round(float(rss[-1]), 1))
    record_property("soak_rss_growth_after_warmup_mb", round(growth, 1))
    print(f"\nsoak {SECONDS:.0f} s: {epochs:,} epochs of the spiral; RSS {rss[0]:.1f} -> "
          f"{rss[-1]:.1f} MB, growth after warm-up {growth:.1f} MB; the timeline holds "
          f"{nbytes:.2f} MB; history points drawn {len(s.history):,}")
    assert epochs > 1000
    assert nbytes < 32, f"the timeline holds {nbytes:.1f} MB"
    # bounded: the timeline's budget (28 MB at most for any run) plus noise
    assert growth < 20, f"RSS grew by {growth:.1f} MB after the warm-up"

