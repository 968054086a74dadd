"""The arithmetic of a trace written out with the numbers plugged in, article style.

    a_Z1 = W10*X0 + W11*X1 + W12*X2 = 1*1 + 1*0 + 1*0 = 1
    delta_Z1 = V01 * delta_D0 * f'(a_Z1) = 1 * 4 * 1 = 4
    W10 := W10 - alpha * X0 * delta_Z1 = 1 - 0.1 * 1 * 4 = 0.6
"""

from __future__ import annotations

import numpy as np

from .names import WeightRef, all_weights, unit_name, weight_name
from .trace import Trace

MAX_TERMS = 6  # longer sums are shortened with "..."


def fmt(v: float) -> str:
    """A number as a person writes it: up to 6 significant digits, no trailing zeros."""
    v = float(v)
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return str(v)
    s = f"{v:.6g}"
    return s


def _paren(v: float) -> str:
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def _sum(terms: list[str]) -> str:
    if len(terms) > MAX_TERMS:
        terms = terms[:MAX_TERMS - 1] + ["...", terms[-1]]
    return " + ".join(terms)


def _uname(t: Trace, layer: int, unit: int) -> str:
    return unit_name(t.layers, layer, unit)


def _wname(t: Trace, layer: int, target: int, source: int) -> str:
    return weight_name(t.layers, WeightRef(layer, target, source))


def _deriv(t: Trace, layer: int, s: int) -> np.ndarray:
    """f'(a) of non-input ``layer`` for sample s (NaN for softmax: not element-wise)."""
    return t.fprime[layer - 1][s]


# -- forward -------------------------------------------------------------------------
def unit_forward(t: Trace, layer: int, unit: int, s: int = 0) -> list[str]:
    """``a = sum w*z`` and ``z = f(a)`` for one unit of a non-input layer."""
    l = layer - 1
    n = _uname(t, layer, unit)
    src = [(-1, 1.0)] + [(j, t.z[l][s, j]) for j in range(t.layers[l])]
    w = [t.biases[l][unit]] + list(t.weights[l][unit])
    names = [f"{_wname(t, l, unit, j)}*{_uname(t, l, j)}" for j, _ in src]
    nums = [f"{_paren(wi)}*{_paren(zj)}" for wi, (_, zj) in zip(w, src)]
    a = t.a[l][s, unit]
    z = t.z[layer][s, unit]
    fname = t.activations[l]
    lines = [f"a_{n} = {_sum(names)} = {_sum(nums)} = {fmt(a)}"]
    if fname == "identity":
        lines.append(f"{n} = f(a_{n}) = a_{n} = {fmt(z)}")
    elif fname == "softmax":
        lines.append(f"{n} = softmax(a)_{unit} = {fmt(z)}")
    else:
        lines.append(f"{n} = {fname}(a_{n}) = {fname}({fmt(a)}) = {fmt(z)}")
    return lines


def forward_lines(t: Trace, s: int = 0) -> list[str]:
    out = []
    for layer in range(1, len(t.layers)):
        for u in range(t.layers[layer]):
            out += unit_forward(t, layer, u, s)
    return out


# -- loss ----------------------------------------------------------------------------
def loss_lines(t: Trace, s: int = 0) -> list[str]:
    L = len(t.layers) - 1
    outs = [_uname(t, L, k) for k in range(t.layers[L])]
    z, y = t.z[L][s], t.y[s]
    loss = t.sample_losses[s]
    kind = t.config.loss
    if kind == "mse":
        sym = " + ".join(f"({o} - y{k})^2" for k, o in enumerate(outs))
        num = " + ".join(f"({fmt(z[k])} - {fmt(y[k])})^2" for k in range(len(outs)))
        return [f"L = 1/2 * [{sym}] = 1/2 * [{num}] = {fmt(loss)}"]
    if kind == "bce":
        if len(outs) == 1:
            return [f"L = -[y log {outs[0]} + (1 - y) log(1 - {outs[0]})] = "
                    f"-[{fmt(y[0])} log {fmt(z[0])} + {fmt(1 - y[0])} log {fmt(1 - z[0])}] = "
                    f"{fmt(loss)}"]
        # one binary cross-entropy per output; L is their sum (each computed from a,
        # as the loss is, so it stays finite when D saturates)
        parts = t.loss_terms[s]
        num = " - ".join(f"[{fmt(y[k])} log {fmt(z[k])} + {fmt(1 - y[k])} log {fmt(1 - z[k])}]"
                         for k in range(len(outs)))
        return [f"L = -sum_k [yk log {outs[0][0]}k + (1 - yk) log(1 - {outs[0][0]}k)] = "
                f"-{num} = {' + '.join(fmt(v) for v in parts)} = {fmt(loss)}"]
    k = int(np.argmax(y))
    return [f"L = -sum y log softmax = -log {outs[k]} = -log {fmt(z[k])} = {fmt(loss)}"]


# -- backward ------------------------------------------------------------------------
def unit_delta(t: Trace, layer: int, unit: int, s: int = 0) -> list[str]:
    """How the delta of a non-input, non-bias unit is computed."""
    L = len(t.layers) - 1
    n = _uname(t, layer, unit)
    d = t.deltas[layer - 1][s, unit]
    if layer == L:
        z, y = t.z[L][s, unit], t.y[s, unit]
        fname = t.activations[-1]
        if t.config.loss in ("bce", "ce"):
            return [f"delta_{n} = {n} - y{unit} = {fmt(z)} - {fmt(y)} = {fmt(d)}"
                    f"   ({t.config.loss} with {fname}: f'(a) cancels)"]
        if fname == "softmax":
            # mse through softmax: every output depends on a_n, with
            # dDk/da_n = Dk * (1[k=n] - Dn) (the softmax Jacobian)
            zs, ys = t.z[L][s], t.y[s]
            jac = t.softmax_jacobian[s][:, unit]
            p = n[0]
            terms = _sum([f"({fmt(zs[k])} - {fmt(ys[k])}) * {_paren(jac[k])}"
                          for k in range(len(zs))])
            each = ", ".join(f"d{_uname(t, L, k)}/da_{n} = {fmt(zs[k])} * "
                             f"({int(k == unit)} - {fmt(zs[unit])}) = {fmt(jac[k])}"
                             for k in range(len(zs)))
            return [f"delta_{n} = sum_k ({p}k - yk) * d{p}k/da_{n} = {terms} = {fmt(d)}",
                    f"   softmax: d{p}k/da_{n} = {p}k * (1[k={unit}] - {n}): {each}"]
        fp = _deriv(t, layer, s)[unit]
        return [f"delta_{n} = ({n} - y{unit}) * f'(a_{n}) = ({fmt(z)} - {fmt(y)}) * {fmt(fp)}"
                f" = {fmt(d)}"]
    fp = _deriv(t, layer, s)[unit]
    nxt = range(t.layers[layer + 1])
    if len(nxt) == 1:
        w = t.weights[layer][0, unit]
        wn = _wname(t, layer, 0, unit)
        dn = _uname(t, layer + 1, 0)
        dv = t.deltas[layer][s, 0]
        return [f"delta_{n} = {wn} * delta_{dn} * f'(a_{n}) = {fmt(w)} * {fmt(dv)} * "
                f"{fmt(fp)} = {fmt(d)}"]
    sym = _sum([f"{_wname(t, layer, k, unit)}*delta_{_uname(t, layer + 1, k)}" for k in nxt])
    num = _sum([f"{_paren(t.weights[layer][k, unit])}*{_paren(t.deltas[layer][s, k])}"
                for k in nxt])
    return [f"delta_{n} = ({sym}) * f'(a_{n}) = ({num}) * {fmt(fp)} = {fmt(d)}"]


def delta_lines(t: Trace, s: int = 0) -> list[str]:
    out = []
    for layer in range(len(t.layers) - 1, 0, -1):
        for u in range(t.layers[layer]):
            out += unit_delta(t, layer, u, s)
    return out


# -- gradients and update ------------------------------------------------------------
def _value(arrs, ref: WeightRef):
    return arrs[1][ref.layer][ref.target] if ref.is_bias else arrs[0][ref.layer][ref.target,
                                                                                   ref.source]


def weight_value(t: Trace, ref: WeightRef) -> float:
    return float(_value((t.weights, t.biases), ref))


def weight_gradient(t: Trace, ref: WeightRef) -> float:
    return float(_value((t.grad_weights, t.grad_biases), ref))


def weight_updated(t: Trace, ref: WeightRef) -> float:
    return float(_value((t.new_weights, t.new_biases), ref))


def weight_penalty_gradient(t: Trace, ref: WeightRef) -> float:
    """The penalty's part of the weight's gradient (0 without a penalty)."""
    return float(_value((t.penalty_grad_weights, t.penalty_grad_biases), ref))


def _sample_terms(t: Trace, ref: WeightRef) -> list[float]:
    """Each sample's data gradient ``z * delta`` of the weight (from the trace)."""
    per = (t.sample_grad_biases if ref.is_bias else t.sample_grad_weights)[ref.layer]
    if ref.is_bias:
        return [float(per[s, ref.target]) for s in range(t.n_samples)]
    return [float(per[s, ref.target, ref.source]) for s in range(t.n_samples)]


def weight_update(t: Trace, ref: WeightRef) -> list[str]:
    """``dL/dw = z * delta`` and ``w := w - alpha * dL/dw`` with numbers."""
    wn = weight_name(t.layers, ref)
    src = _uname(t, ref.layer, ref.source)
    dst = _uname(t, ref.layer + 1, ref.target)
    w, g, new = weight_value(t, ref), weight_gradient(t, ref), weight_updated(t, ref)
    alpha = t.config.learning_rate
    pen = weight_penalty_gradient(t, ref)
    data = g - pen
    cfg = t.config
    simple = cfg.optimizer == "sgd" and pen == 0.0 and (
        cfg.regularization == "none" or cfg.regularization_rate == 0 or ref.is_bias)
    lines = []
    if t.n_samples == 1:
        z = 1.0 if ref.is_bias else float(t.z[ref.layer][0, ref.source])
        d = float(t.deltas[ref.layer][0, ref.target])
        if simple:
            lines.append(f"dL/d{wn} = {src} * delta_{dst} = {fmt(z)} * {fmt(d)} = {fmt(g)}")
            lines.append(f"{wn} := {wn} - alpha * {src} * delta_{dst} = {fmt(w)} - "
                         f"{fmt(alpha)} * {fmt(z)} * {fmt(d)} = {fmt(new)}")
            return lines
        lines.append(f"dL/d{wn} (data) = {src} * delta_{dst} = {fmt(z)} * {fmt(d)} = "
                     f"{fmt(data)}")
    else:
        each = [fmt(v) for v in _sample_terms(t, ref)]
        lines.append(f"dL/d{wn} (data) = mean over {t.n_samples} samples of {src} * delta_{dst}"
                     f" = ({_sum(each)}) / {t.n_samples} = {fmt(data)}")
    if cfg.regularization == "l2" and not ref.is_bias and cfg.regularization_rate:
        lines.append(f"dL/d{wn} += lambda * {wn} = {fmt(cfg.regularization_rate)} * {fmt(w)}"
                     f" = {fmt(pen)}  ->  {fmt(g)}")
    elif cfg.regularization == "l1" and not ref.is_bias and cfg.regularization_rate:
        lines.append(f"dL/d{wn} += lambda * sign({wn}) = {fmt(pen)}  ->  {fmt(g)}")
    if cfg.optimizer == "sgd":
        lines.append(f"{wn} := {wn} - alpha * dL/d{wn} = {fmt(w)} - {fmt(alpha)} * {fmt(g)}"
                     f" = {fmt(new)}")
    else:
        lines.append(f"{wn} := {cfg.optimizer} step with alpha = {fmt(alpha)}: {fmt(w)} -> "
                     f"{fmt(new)}")
    return lines


def update_lines(t: Trace, limit: int | None = None) -> list[str]:
    """The update of every weight; with ``limit``, at most that many lines and a note."""
    out = []
    refs = all_weights(t.layers)
    for k, ref in enumerate(refs):
        if limit is not None and len(out) >= limit:
            out.append(f"... and {len(refs) - k} more weights (select one to see its update)")
            break
        out += weight_update(t, ref)
    return out


def explain(t: Trace, s: int = 0) -> str:
    """The whole step as text: forward, loss, deltas, updates."""
    parts = ["Forward pass", *forward_lines(t, s), "", "Loss", *loss_lines(t, s), "",
             "Backward pass (deltas)", *delta_lines(t, s), "", "Weight update",
             *update_lines(t)]
    return "\n".join(parts)


def step_json(t: Trace, s: int = 0) -> dict:
    """The trace keyed by unit and weight names (the CLI's ``step --json``)."""
    forward = {}
    for layer in range(1, len(t.layers)):
        for u in range(t.layers[layer]):
            forward[_uname(t, layer, u)] = {"a": float(t.a[layer - 1][s, u]),
                                            "z": float(t.z[layer][s, u])}
    deltas = {}
    for layer in range(len(t.layers) - 1, 0, -1):
        for u in range(t.layers[layer]):
            deltas[_uname(t, layer, u)] = float(t.deltas[layer - 1][s, u])
    refs = all_weights(t.layers)
    return {
        "inputs": {_uname(t, 0, j): float(t.x[s, j]) for j in range(t.layers[0])},
        "targets": [float(v) for v in t.y[s]],
        "forward": forward,
        "loss": float(t.sample_losses[s]),
        "deltas": deltas,
        "gradients": {weight_name(t.layers, r): weight_gradient(t, r) for r in refs},
        "updated": {weight_name(t.layers, r): weight_updated(t, r) for r in refs},
    }
