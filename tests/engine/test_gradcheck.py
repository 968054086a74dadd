import numpy as np

from backprop_lab.engine import data, presets
from backprop_lab.engine.gradcheck import gradient_check


def test_every_preset_passes_the_gradient_check():
    for name in presets.preset_names():
        p = presets.load_preset(name)
        ds = data.build(p.data)
        rows = gradient_check(p.network, p.training, ds.x_train[:1], ds.y_train[:1])
        assert len(rows) == p.network.n_params
        worst = max(r.rel_error for r in rows if abs(r.analytic) + abs(r.numeric) > 1e-7)
        assert worst < 1e-6, (name, worst)


def test_article_rows():
    p = presets.load_preset("article-xor")
    rows = {r.name: r for r in gradient_check(p.network, p.training, [[0, 0]], [[0]])}
    assert rows["W10"].analytic == 4.0
    assert abs(rows["W10"].numeric - 4.0) < 1e-6
    assert rows["W11"].analytic == 0.0 and abs(rows["W11"].numeric) < 1e-8


def test_a_wrong_gradient_would_be_caught(monkeypatch):
    # Break backpropagation on purpose: the check must report it.
    from backprop_lab.engine import network

    p = presets.load_preset("xor-tanh")
    real = network.Network.deltas

    def wrong(self, cache, y, loss):
        d = real(self, cache, y, loss)
        d[0] = d[0] * 1.01
        return d

    monkeypatch.setattr(network.Network, "deltas", wrong)
    rows = gradient_check(p.network, p.training, [[0, 1]], [[1]])
    assert max(r.rel_error for r in rows) > 1e-3
    assert np.isfinite([r.numeric for r in rows]).all()
