import numpy as np

from backprop_lab.engine import data, presets
from backprop_lab.engine.trace import trace_step


def test_per_sample_gradients_average_to_the_batch_gradient():
    p = presets.load_preset("spiral")
    ds = data.build(p.data)
    t = trace_step(p.network, p.training, ds.x_train[:7], ds.y_train[:7])
    for l in range(len(t.grad_weights)):
        each = np.array([t.sample_grad_weights[l][s] for s in range(7)])
        np.testing.assert_allclose(each.mean(axis=0), t.grad_weights[l], rtol=1e-12,
                                   atol=1e-15)
        bias = np.array([t.sample_grad_biases[l][s] for s in range(7)])
        np.testing.assert_allclose(bias.mean(axis=0), t.grad_biases[l], rtol=1e-12,
                                   atol=1e-15)
        assert t.sample_grad_weights[l][3, 0, 1] == each[3, 0, 1]
        assert t.sample_grad_biases[l][3, 0] == bias[3, 0]


def test_a_big_batch_trace_does_not_build_every_outer_product():
    p = presets.load_preset("spiral")
    ds = data.build(p.data)
    x = np.repeat(ds.x_train, 20, axis=0)  # 10,000 samples
    y = np.repeat(ds.y_train, 20, axis=0)
    t = trace_step(p.network, p.training, x, y)
    # lazily: one sample's matrix on request, nothing of size samples x 8 x 8 stored
    assert t.sample_grad_weights[1][9999].shape == (8, 8)
    assert all(not isinstance(g, np.ndarray) for g in t.sample_grad_weights)
