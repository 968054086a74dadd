"""Equations typeset for the screen: the engine writes them in plain ASCII (for the command
line and the clipboard: ``a_Z1 = W10*X0 + ...``, ``W10 := W10 - alpha * dL/dW10``), and
this turns one line into HTML with subscripts, Greek letters and real operators:
a<sub>Z1</sub> = W<sub>10</sub>·X<sub>0</sub> + ..., and
W<sub>10</sub> ← W<sub>10</sub> − α·∂L/∂W<sub>10</sub>.
Only known tokens change; any other text is escaped as it is.
"""

from __future__ import annotations

import html
import re

_NAME = r"[A-Z]\d+(?:_\d+)*"
_TOKENS = re.compile(
    r"(?P<delta>\bdelta_(?P<dn>" + _NAME + r"))"
    r"|(?P<pre>\ba_(?P<an>" + _NAME + r"))"
    r"|(?P<grad>\bdL/d(?P<gn>" + _NAME + r"))"
    r"|(?P<sum>\bsum_(?P<si>[a-z]))"
    r"|(?P<greek>\b(?:alpha|lambda|delta)\b)"
    r"|(?P<name>\b" + _NAME + r"\b)"
    r"|(?P<sym>\b[WVXZD](?:\d|[ijkn])*[ijkn](?:\d|[ijkn])*\b)"
    r"|(?P<arrow>->)"
    r"|(?P<target>\by(?P<ti>\d+)\b)"
    r"|(?P<assign>:=)"
    r"|(?P<half>\b1/2\b)"
    r"|(?P<sq>\^2\b)"
    r"|(?P<pow>\^(?P<pw>-?[a-z0-9]+))"
    r"|(?P<prime>f'\()"
    r"|(?P<times>\s\*\s|\*)"
    r"|(?P<minus>(?<=[\s(\[e])-(?=[\d.(a-zA-Z\s]))"
)
_GREEK = {"alpha": "α", "lambda": "λ", "delta": "δ"}


def _flat(name: str) -> str:
    """A unit or weight name inside a subscript: ``Z1`` stays, ``W2_3_0`` -> ``W2,3,0``."""
    return name.replace("_", ",")


def name_html(name: str) -> str:
    """``W10`` -> W<sub>10</sub>; ``Z1_3`` -> Z1<sub>3</sub>; ``W2_3_0`` -> W2<sub>3,0</sub>."""
    if "_" in name:
        head, rest = name.split("_", 1)
        return f"{head}<sub>{rest.replace('_', ',')}</sub>"
    return f"{name[0]}<sub>{name[1:]}</sub>"


def typeset(line: str) -> str:
    """One ASCII equation line as HTML (see the module docstring)."""
    out = []
    pos = 0
    for m in _TOKENS.finditer(line):
        out.append(html.escape(line[pos:m.start()]))
        pos = m.end()
        g = m.groupdict()
        if g["delta"]:
            out.append(f"δ<sub>{_flat(g['dn'])}</sub>")
        elif g["pre"]:
            out.append(f"a<sub>{_flat(g['an'])}</sub>")
        elif g["grad"]:
            out.append(f"∂L/∂{name_html(g['gn'])}")
        elif g["sum"]:
            out.append(f"Σ<sub>{g['si']}</sub>")
        elif g["greek"]:
            out.append(_GREEK[g["greek"]])
        elif g["name"]:
            out.append(name_html(g["name"]))
        elif g["sym"]:
            out.append(f"{g['sym'][0]}<sub>{g['sym'][1:]}</sub>")
        elif g["arrow"]:
            out.append("→")
        elif g["target"]:
            out.append(f"y<sub>{g['ti']}</sub>")
        elif g["assign"]:
            out.append("←")
        elif g["half"]:
            out.append("½")
        elif g["sq"]:
            out.append("²")
        elif g["pow"]:
            out.append(f"<sup>{html.escape(g['pw'].replace('-', '−'))}</sup>")
        elif g["prime"]:
            out.append("f′(")
        elif g["times"]:
            out.append(" · " if g["times"].strip() != g["times"] else "·")
        elif g["minus"]:
            out.append("−")
    out.append(html.escape(line[pos:]))
    return "".join(out)
