"""Tests for engine.grid: the network's output and its units over the input plane."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lab.engine import data, features, grid, presets
from backprop_lab.engine.data import DataSpec
from backprop_lab.engine.network import Network


def _trained_like(name: str, seed: int = 3):
    """A preset's network with awkward, random weights (not its initial ones)."""
    p = presets.load_preset(name)
    p.network.params[:] = np.random.default_rng(seed).normal(size=p.network.n_params)
    return p.network, data.build(p.data)


def test_grid_covers_the_data_with_a_margin():
    ds = data.build(DataSpec(dataset="xor"))
    g = grid.plane(ds)
    assert g.shape == (100, 100) and g.raw.shape == (10_000, 2)
    assert g.x_range == pytest.approx((-0.1, 1.1)) and g.y_range == pytest.approx((-0.1, 1.1))
    assert g.rect == pytest.approx((-0.1, -0.1, 1.2, 1.2))
    assert g.xs[0] == pytest.approx(-0.1 + 0.006) and g.xs[-1] == pytest.approx(1.1 - 0.006)
    # row iy, column ix is the point (xs[ix], ys[iy])
    assert g.raw[3 * 100 + 7].tolist() == [g.xs[7], g.ys[3]]
    wide = grid.plane(ds, (120, 80), margin=0.0)
    assert wide.shape == (80, 120) and wide.x_range == (0.0, 1.0)


def test_grid_range_spans_test_points_too():
    ds = data.build(DataSpec(dataset="spiral", samples=200, noise=0.05, test_fraction=0.3))
    g = grid.plane(ds, margin=0.0)
    pts = np.vstack([ds.raw_train, ds.raw_test])
    assert g.x_range == (pts[:, 0].min(), pts[:, 0].max())
    assert g.y_range == (pts[:, 1].min(), pts[:, 1].max())


@pytest.mark.parametrize("name", ["spiral", "circle-features", "three-class", "regression",
                                  "article-xor"])
def test_heatmap_equals_the_forward_pass_on_the_same_points(name):
    net, ds = _trained_like(name)
    g = grid.plane(ds)
    m = grid.maps(net, g)
    assert m.output.shape == (net.layers[-1], 100, 100)
    # the same raw points, through the dataset's own pipeline, one row at a time
    rows = [37, 4242, 9999]
    for r in rows:
        iy, ix = divmod(r, 100)
        point = np.array([[g.xs[ix], g.ys[iy]]])
        expected = net.predict(ds.inputs_from_raw(point))[0]
        np.testing.assert_allclose(m.output[:, iy, ix], expected, rtol=1e-12, atol=1e-14)
    # and the whole grid in one pass: bit-identical
    cache = net.forward(ds.inputs_from_raw(g.raw))
    for k in range(net.layers[-1]):
        np.testing.assert_array_equal(m.output[k].ravel(), cache.output[:, k])


def test_heatmap_uses_features_and_normalisation():
    spec = data.set_normalize(
        DataSpec(dataset="circle", samples=60, features=("x1^2", "x1*x2", "sin(x2)")), True)
    ds = data.build(spec)
    net = Network([3, 4, 1], "tanh", "sigmoid",
                  np.random.default_rng(0).normal(size=Network([3, 4, 1]).n_params))
    g = grid.plane(ds, 30)
    by_hand = (features.apply(spec.features, g.raw) - np.array(spec.norm_mean)) \
        / np.array(spec.norm_std)
    np.testing.assert_array_equal(g.inputs, by_hand)
    np.testing.assert_array_equal(grid.maps(net, g).output[0].ravel(),
                                  net.predict(by_hand)[:, 0])


def test_maps_are_oriented_rows_y_columns_x():
    ds = data.build(DataSpec(dataset="circle", samples=40))
    net = Network([2, 1], "tanh", "identity")
    net.weights[0][:] = [[1.0, 0.0]]  # output = x1
    m = grid.maps(net, grid.plane(ds, (50, 40)))
    g = grid.plane(ds, (50, 40))
    np.testing.assert_array_equal(m.output[0], np.broadcast_to(g.xs, (40, 50)))
    net.weights[0][:] = [[0.0, 1.0]]  # output = x2
    m = grid.maps(net, g)
    np.testing.assert_array_equal(m.output[0], np.broadcast_to(g.ys[:, None], (40, 50)))


def test_unit_maps_come_from_the_same_pass():
    net, ds = _trained_like("spiral")
    g = grid.plane(ds)
    m = grid.maps(net, g)
    assert [u.shape for u in m.units] == [(8, 100, 100)] * 3
    cache = net.forward(g.inputs)
    for layer in (1, 2, 3):
        for unit in range(8):
            img = m.unit(layer, unit)
            assert img.flags.c_contiguous and img.dtype == np.float64
            np.testing.assert_array_equal(img.ravel(), cache.z[layer - 1][:, unit])
    np.testing.assert_array_equal(m.unit(4, 0), m.output[0])
    assert grid.maps(net, g, units=False).units == ()
    with pytest.raises(ValueError, match="no layer 5"):
        m.unit(5, 0)


def test_bad_grids_are_refused():
    ds = data.build(DataSpec(dataset="xor"))
    with pytest.raises(ValueError, match="2 to 1000 cells"):
        grid.plane(ds, 1)
    with pytest.raises(ValueError, match="increasing"):
        grid.plane(ds, bounds=((1.0, 0.0), (0.0, 1.0)))
    three = data.build(DataSpec(inputs=((0, 1, 2), (1, 2, 3)), targets=((0,), (1,))))
    with pytest.raises(ValueError, match="2 raw inputs"):
        grid.plane(three)
    with pytest.raises(ValueError, match="the grid has 2 inputs per point, the network 3"):
        grid.maps(Network([3, 1]), grid.plane(ds))


def test_a_single_point_gets_a_range_one_wide():
    ds = data.build(DataSpec(inputs=((0.5, 0.5),), targets=((1,),)))
    assert grid.data_range(ds) == ((0.0, 1.0), (0.0, 1.0))


def test_nearest_sample():
    spec = DataSpec(inputs=((0, 0), (1, 0)), targets=((0,), (1,)),
                    test_inputs=((0, 1),), test_targets=((1,),))
    ds = data.build(spec)
    assert grid.nearest_sample(ds, (0.9, 0.1)) == ("train", 1)
    assert grid.nearest_sample(ds, (0.1, 0.8)) == ("test", 0)
    assert grid.nearest_sample(ds, (0.1, 0.8), test=False) == ("train", 0)
    assert grid.nearest_sample(ds, (5, 5), max_distance=0.5) is None


def test_time_maps_reports_its_figures():
    net, ds = _trained_like("spiral")
    t = grid.time_maps(net, ds, repeats=2)
    assert set(t) == {"heatmap_ms", "unit_maps_ms", "cells", "hidden_units"}
    assert t["cells"] == 10_000 and t["hidden_units"] == 24 and t["heatmap_ms"] > 0


def test_class_regions_and_their_strength():
    net, ds = _trained_like("three-class")
    m = grid.maps(net, grid.plane(ds, 20))
    winner, strength = m.classes()
    assert winner.shape == strength.shape == (20, 20)
    np.testing.assert_array_equal(winner, m.output.argmax(axis=0))
    np.testing.assert_array_equal(strength, m.output.max(axis=0))
    assert len(np.unique(winner)) > 1
    one = grid.Maps(np.array([[[0.2, 0.5], [0.9, 0.0]]]), ())
    w, s = one.classes()
    assert w.tolist() == [[0, 1], [1, 0]] and s.tolist() == [[0.8, 0.5], [0.9, 1.0]]
