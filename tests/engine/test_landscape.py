"""The loss landscape: a plane through the initial and the current weights with a
filter-normalised second direction, the grid is the objective, projections."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lab.engine import data, presets
from backprop_lab.engine.landscape import (
    LandscapeJob,
    extent_for,
    filter_normalize,
    grid_axis,
    landscape,
    make_plane,
)
from backprop_lab.engine.training import Trainer
from backprop_lab.engine.update import objective


@pytest.fixture(scope="module")
def trained():
    """The spiral preset after 30 epochs, with an L2 penalty so the objective has both
    parts: (network with current weights, config, dataset, initial weights)."""
    p = presets.load_preset("spiral")
    cfg = p.training.with_(regularization="l2", regularization_rate=1e-3)
    ds = data.build(p.data)
    initial = p.network.params.copy()
    t = Trainer(p.network, cfg, ds.x_train, ds.y_train)
    for _ in range(30):
        t.run_epoch()
    return p.network, cfg, ds, initial


def neuron_norms(net, flat):
    w, b = net.views(flat)
    return np.concatenate([np.sqrt((wl * wl).sum(axis=1) + bl * bl) for wl, bl in zip(w, b)])


def neuron_dots(net, a, b):
    wa, ba = net.views(a)
    wb, bb = net.views(b)
    return np.concatenate([(x * y).sum(axis=1) + u * v for x, u, y, v in zip(wa, ba, wb, bb)])


def test_the_plane_runs_through_the_start_with_a_filter_normalised_second_axis(trained):
    net, _, _, initial = trained
    cur = net.params.copy()
    plane = make_plane(net, cur, initial, seed=3)
    assert plane.along_path
    # d1 is the step itself: the initial weights at (-1, 0), on the plane
    assert plane.d1.tobytes() == (cur - initial).tobytes()
    coords, off = plane.project(initial)
    np.testing.assert_allclose(coords, [[-1.0, 0.0]], atol=1e-12)
    assert off[0] < 1e-12 and plane.distance(initial)[0] < 1e-12
    # d2 filter-normalised (Li et al.) and orthogonal to d1 neuron by neuron
    target = neuron_norms(net, cur)
    np.testing.assert_allclose(neuron_norms(net, plane.d2), target, rtol=1e-12)
    step = cur - initial
    np.testing.assert_allclose(neuron_dots(net, plane.d1, plane.d2), 0,
                               atol=1e-12 * np.abs(step).max() * target.max())
    assert abs(plane.d1 @ plane.d2) < 1e-10 * np.linalg.norm(plane.d1) * \
        np.linalg.norm(plane.d2)
    # the same seed, the same plane
    again = make_plane(net, cur, initial, seed=3)
    assert again.d2.tobytes() == plane.d2.tobytes()


def test_filter_normalize_matches_row_norms_and_leaves_zero_rows_out(trained):
    net = trained[0]
    ref = net.params.copy()
    w, b = net.views(ref)
    w[1][2] = 0.0
    b[1][2] = 0.0  # a neuron with no weights: no part in any direction
    d = filter_normalize(np.ones(net.n_params), ref, net)
    norms = neuron_norms(net, d)
    np.testing.assert_allclose(norms, neuron_norms(net, ref), rtol=1e-12)
    dw, db = net.views(d)
    assert not dw[1][2].any() and db[1][2] == 0


def test_the_grid_is_the_objective_at_its_points(trained):
    net, cfg, ds, initial = trained
    plane = make_plane(net, net.params, initial)
    alphas, betas = grid_axis(1.5, 41), grid_axis(1.0, 41)
    scape = landscape(net, cfg, ds.x_train, ds.y_train, plane, alphas, betas)
    assert scape.values.shape == (41, 41) and scape.complete
    probe = net.copy()
    for j in range(0, 41, 5):
        for i in range(0, 41, 4):
            probe.params[:] = plane.point(alphas[i], betas[j])
            assert scape.values[j, i] == objective(probe, cfg, ds.x_train, ds.y_train)
    # the centre is the current weights, on the training set, penalty included
    c = net.copy()
    assert scape.values[20, 20] == objective(c, cfg, ds.x_train, ds.y_train)
    assert np.isfinite(scape.values).all()


def test_job_is_progressive_and_cancellable(trained):
    net, cfg, ds, initial = trained
    plane = make_plane(net, net.params, initial)
    job = LandscapeJob(net, cfg, ds.x_train, ds.y_train, plane, grid_axis(1, 9),
                       grid_axis(1, 7))
    it = iter(job)
    assert next(it) == (0, 7)
    assert next(it) == (1, 7)
    assert np.isfinite(job.result.values[0]).all() and np.isnan(job.result.values[1:]).all()
    job.cancel()
    assert list(it) == [] and not job.result.complete
    # it picks up where it stopped
    job.cancelled = False
    assert job.run().complete and np.isfinite(job.result.values).all()


def test_projection_of_paths(trained):
    net, _, _, initial = trained
    cur = net.params.copy()
    plane = make_plane(net, cur, initial, seed=1)
    pts = [plane.point(0.3, -0.7), plane.point(-1.2, 0.4), cur]
    coords, off = plane.project(pts)
    np.testing.assert_allclose(coords, [[0.3, -0.7], [-1.2, 0.4], [0, 0]], atol=1e-12)
    np.testing.assert_allclose(off, 0, atol=1e-12)
    # the initial weights are exactly at (-1, 0) (d1 is the step, not rescaled)
    (a, b), = plane.project(initial)[0]
    assert abs(a + 1) < 1e-12 and abs(b) < 1e-12
    assert extent_for(plane, [np.stack([initial, cur])]) >= 1.0
    # a point off the plane: its distance in units of |d1|
    away = np.zeros_like(cur)
    away[0], away[1] = plane.d1[1], -plane.d1[0]  # orthogonal to d1 ...
    away -= (away @ plane.d2) / (plane.d2 @ plane.d2) * plane.d2  # ... and to d2
    away *= 0.5 * np.linalg.norm(plane.d1) / np.linalg.norm(away)
    assert np.isclose(plane.distance(plane.point(0.2, 0.3) + away)[0], 0.5, rtol=1e-9)


def test_the_extent_leaves_out_states_that_are_not_finite_and_has_a_limit(trained):
    net, _, _, initial = trained
    cur = net.params.copy()
    plane = make_plane(net, cur, initial)
    path = np.stack([initial, plane.point(2.0, 0.5), np.full_like(cur, np.nan)])
    assert np.isclose(extent_for(plane, [path]), 2.0 * 1.15)
    assert extent_for(plane, [np.stack([plane.point(50.0, 0.0)])]) == 4.0


def test_a_straight_run_lies_exactly_on_the_plane(trained):
    """A run that moved along a straight line (current = 2 x initial): every state on it
    is on the plane, on the first axis."""
    net, _, _, initial = trained
    cur = 2 * initial
    plane = make_plane(net, cur, initial)
    coords, off = plane.project([initial, 1.5 * initial, cur])
    np.testing.assert_allclose(coords, [[-1.0, 0.0], [-0.5, 0.0], [0.0, 0.0]], atol=1e-12)
    assert off.max() < 1e-12 and plane.distance([1.5 * initial])[0] < 1e-12


def test_without_movement_the_first_direction_is_random(trained):
    net = trained[0]
    plane = make_plane(net, net.params, net.params.copy())
    assert not plane.along_path
    np.testing.assert_allclose(neuron_norms(net, plane.d1), neuron_norms(net, net.params),
                               rtol=1e-12)
    np.testing.assert_allclose(neuron_dots(net, plane.d1, plane.d2), 0, atol=1e-12)
