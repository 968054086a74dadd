"""Equations typeset for the screen from the engine's ASCII lines."""

import pytest

from backprop_lab.ui.typeset import typeset


@pytest.mark.parametrize("line,html", [
    ("a_Z1 = W10*X0 + W11*X1 = 1*1 + 1*0 = 1",
     "a<sub>Z1</sub> = W<sub>10</sub>·X<sub>0</sub> + W<sub>11</sub>·X<sub>1</sub> = "
     "1·1 + 1·0 = 1"),
    ("delta_Z1 = V01 * delta_D0 * f'(a_Z1) = 1 * 4 * 1 = 4",
     "δ<sub>Z1</sub> = V<sub>01</sub> · δ<sub>D0</sub> · f′(a<sub>Z1</sub>) = 1 · 4 · 1 = 4"),
    ("W10 := W10 - alpha * X0 * delta_Z1 = 1 - 0.1 * 1 * 4 = 0.6",
     "W<sub>10</sub> ← W<sub>10</sub> − α · X<sub>0</sub> · δ<sub>Z1</sub> = "
     "1 − 0.1 · 1 · 4 = 0.6"),
    ("L = 1/2 * [(D0 - y0)^2] = 8", "L = ½ · [(D<sub>0</sub> − y<sub>0</sub>)²] = 8"),
    ("f(a) = 1 / (1 + e^-a)", "f(a) = 1 / (1 + e<sup>−a</sup>)"),
    ("a_Z1 = sum_j W1j * Xj", "a<sub>Z1</sub> = Σ<sub>j</sub> W<sub>1j</sub> · X<sub>j</sub>"),
    ("dL/dW2_3_0 = -2.5e-06", "∂L/∂W2<sub>3,0</sub> = −2.5e−06"),
    ("x < 1 & y", "x &lt; 1 &amp; y"),
])
def test_lines_become_html(line, html):
    assert typeset(line) == html
