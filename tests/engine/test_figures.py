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


def test_a_figure_never_goes_through_a_link_or_over_a_file_and_runs_without_a_trace_keep_theirs_private(
    tmp_path: Path, monkeypatch
):
    """A figure's bytes are the model's to choose: a name planted as a link (by another user of a shared
    folder) must not aim them at a file of the user's."""
    import os
    import struct
    import zlib

    from start_tui.engine.reasoner import figures_dir, save_figures
    from start_tui.sandbox import ExecResult

    def png(w: int, h: int) -> bytes:
        ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
        crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + crc

    folder = tmp_path / "figs"
    folder.mkdir()
    victim = tmp_path / "authorized_keys"
    victim.write_text("mine\n")
    (folder / "t-2.png").symlink_to(victim)  # planted where the second figure will be written
    result = ExecResult(ok=True, stdout="", error=None, timed_out=False, duration_s=0.0, figures=[png(4, 3)] * 2)
    first, second = save_figures(result, folder, "t", 1)
    assert first["path"] == str(folder / "t-1.png") and (first["width"], first["height"]) == (4, 3)
    assert second["path"] == "" and victim.read_text() == "mine\n"  # not written through the link

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    [kept] = save_figures(result, figures_dir(), "u", 1)[:1]
    assert Path(kept["path"]).parent == tmp_path / "cache" / "start-tui" / "figures"
    assert os.stat(figures_dir()).st_mode & 0o077 == 0  # the user's alone
