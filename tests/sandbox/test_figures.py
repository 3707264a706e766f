"""matplotlib figures come back from the sandbox as PNG images, within limits, and nothing else passes as one."""

from __future__ import annotations

import base64

import pytest

from start_tui.sandbox import Sandbox, SandboxConfig
from start_tui.sandbox.protocol import png_size
from start_tui.sandbox.runner import MAX_FIGURES
from start_tui.sandbox.worker import _figures

DRAW = """
import matplotlib.pyplot as plt
plt.plot([1, 2, 3], [1, 4, 9])
plt.title("squares")
plt.show()
fig = plt.figure(figsize=(3, 2))
plt.bar([1, 2], [3, 4])
print("drew")
"""


@pytest.mark.parametrize("language_layer", [True, False])
def test_a_figure_comes_back_as_a_png_and_is_closed(language_layer: bool):
    with Sandbox(SandboxConfig(language_layer=language_layer)) as sb:
        session = sb.session()
        result = session.run(DRAW)
        assert result.ok and result.stdout == "drew\n" and result.stderr == "", result
        assert [png_size(f) for f in result.figures] == [(640, 480), (300, 200)] and result.figures_dropped == 0
        again = session.run("import matplotlib.pyplot as plt\nprint(plt.get_fignums())")
        assert again.stdout == "[]\n" and again.figures == []  # each figure comes back once


def test_figures_past_the_limit_of_a_call_are_counted_not_sent():
    code = f"import matplotlib.pyplot as plt\nfor i in range({MAX_FIGURES + 3}):\n    plt.figure()\n    plt.plot([i])\n"
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        result = sb.session().run(code)
    assert result.ok and len(result.figures) == MAX_FIGURES and result.figures_dropped == 3


def test_what_the_runner_reports_as_figures_is_checked_on_the_host():
    header = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000280000001e008060000005b")  # 640x480
    png = base64.b64encode(header + bytes(16)).decode()
    forged = [png, "not base64!", base64.b64encode(b"GIF89a" + b"\0" * 40).decode(), 7, {"x": 1}]
    kept, dropped = _figures(forged, 2)
    assert kept == [png] and dropped == 2 + 4
    assert _figures("a string", 0) == ([], 0) and _figures([], True) == ([], 0)
    assert _figures([png] * 40, 0) == ([png] * 16, 24)
