"""A figure the model's code draws is kept beside the trace, told to the model in one line, and exported."""

from __future__ import annotations

from pathlib import Path

from start_tui.engine import HintPolicy, Reasoner, RunConfig, load_traces
from start_tui.engine.events import CodeFinished
from start_tui.engine.trace import trace_events
from start_tui.export import trace_to_markdown
from start_tui.sandbox import Sandbox
from start_tui.sandbox.protocol import png_size
from tests.scripted import PROFILE, ScriptedBackend

REPLY = (
    "Let me plot it.\n```python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nprint('ok')\n```\n"
)


def test_a_figure_is_saved_beside_the_trace_and_the_model_reads_one_line(tmp_path: Path, sandbox: Sandbox):
    backend = ScriptedBackend(REPLY, "So it grows. Final answer: 9<|end|>")
    reasoner = Reasoner(backend, sandbox, PROFILE, HintPolicy(enabled=False), RunConfig(max_tokens=2000))
    trace_file = tmp_path / "run.jsonl"
    run = reasoner.start("Plot the squares.", trace_path=trace_file)
    [done] = [e for e in run.events() if isinstance(e, CodeFinished)]
    [figure] = done.figures
    saved = Path(figure["path"])
    assert saved.parent == tmp_path / "run.figures" and png_size(saved.read_bytes()) == (640, 480)
    assert done.output_text == "\n```output\nok\n[figure 1: 640x480, saved]\n```\n"
    assert "[figure 1: 640x480, saved]" in backend.seen[-1]  # what the model read next, not the bytes
    [reloaded] = load_traces(trace_file)
    [again] = [e for e in trace_events(reloaded) if isinstance(e, CodeFinished)]
    assert again.figures == done.figures
    assert f"![figure 1]({saved})" in trace_to_markdown(reloaded)
