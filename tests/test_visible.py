"""What a model or its code writes is shown on the terminal, never obeyed by it (no clipboard writes,
no cleared screen, no rewritten lines), in `solve`, the samples board, the app and `start-tui exec`."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from start_tui.engine import HintPolicy, Reasoner, RunConfig, TextDelta
from start_tui.engine.events import CodeFinished
from start_tui.visible import visible, visible_event
from tests.scripted import PROFILE, ScriptedBackend

CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: write the clipboard
CLEAR = "\x1b[2J"
UP_ERASE = "\x1b[1A\x1b[2K"  # rewrite the line above: fake output
ATTACK = f"{CLIPBOARD}{CLEAR}{UP_ERASE}\rforged\x9b31m\x7f"
OBEYED = ("\x1b]", CLEAR, "\x1b[1A", "\x1b[2K", "\r", "\x9b", "\x07")


def obeyed(output: str) -> list[str]:
    return [seq for seq in OBEYED if seq in output]


def test_control_characters_become_printable_stand_ins_one_for_one():
    shown = visible(ATTACK)
    assert len(shown) == len(ATTACK) and not obeyed(shown)
    assert shown.startswith("␛]52;c;") and "␇" in shown and "␍forged" in shown and shown.endswith("\ufffd31m␡")
    text = "tabs\tand\nnewlines stay, as do ünïcödé and 日本"
    assert visible(text) is text  # nothing to change: the same string, no copy
    delta = TextDelta(ATTACK, "model")
    assert visible_event(delta).text == visible(ATTACK) and delta.text == ATTACK  # the event itself is kept
    plain = TextDelta("2 + 2", "model")
    assert visible_event(plain) is plain


def test_text_that_reads_differently_from_what_it_holds_is_shown_as_it_is():
    # a right-to-left override turns `x = 1 # ;2 = y` into what looks like a comment, a zero-width
    # space splits a name without showing it
    trojan = "if ok\u202e } \u2066if\u2069 {:\n    x\u200b = 1\ufeff\u200d\u061c"
    shown = visible(trojan)
    assert len(shown) == len(trojan) and shown.count("\ufffd") == 7
    assert not {c for c in shown if 0x200B <= ord(c) <= 0x206F or ord(c) in (0xFEFF, 0x061C)}
    arabic = "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd"  # right-to-left letters are text, not controls
    assert visible(arabic) is arabic


def scripted_run(reply: str):
    backend = ScriptedBackend(reply, chunk=5)
    reasoner = Reasoner(backend, None, PROFILE, HintPolicy(enabled=False), RunConfig())  # type: ignore[arg-type]
    return reasoner


def test_solve_shows_the_models_escape_sequences_as_text():
    from start_tui.solve import StreamPrinter

    out = io.StringIO()
    printer = StreamPrinter(Console(file=out, force_terminal=True, width=100))
    run = scripted_run(f"Thinking {ATTACK} done.\nFinal answer: 4<|end|>").start("What is 2 + 2?")
    for event in run.events():
        printer.show(event)
    output = f"\n```output\n{ATTACK}\n```\n"
    printer.show(
        CodeFinished(index=1, ok=True, stdout=ATTACK, error=None, timed_out=False, duration_s=0.01, output_text=output)
    )
    shown = out.getvalue()
    assert not obeyed(shown), obeyed(shown)
    assert shown.count("␛]52;c;ZWNobyBwd25lZA==␇") == 2  # the model's text and the code's output
    assert run.trace.text.count(ATTACK) == 1  # the trace keeps what the model wrote


def test_the_samples_board_and_the_vote_show_text_not_markup_or_escapes():
    from start_tui.engine.samples import SampleSet
    from start_tui.samples_view import SampleBoard, print_vote

    reply = f"[/bold] [red]x {ATTACK}\nFinal answer: {CLEAR}4<|end|>"
    group = SampleSet([scripted_run(reply), scripted_run(reply)], "What is 2 + 2?")
    board = SampleBoard(group, f"model {CLEAR}[/]")
    for i, event in group.events():
        board.update(i, event)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160)
    console.print(board)  # a "[/bold]" of the model's would be a markup error if it were read as markup
    print_vote(group, console)
    shown = out.getvalue()
    assert not obeyed(shown), obeyed(shown)
    assert "model ␛[2J[/]" in shown and "2 × ␛[2J4" in Text.from_ansi(shown).plain


async def test_the_app_shows_an_opened_traces_escape_sequences_as_text(tmp_path: Path):
    from start_tui.engine.trace import save_traces
    from start_tui.tui.app import StartApp
    from start_tui.tui.settings import Settings

    run = scripted_run(f"Thinking {ATTACK} done.\nFinal answer: 4<|end|>").start("What is 2 + 2?")
    list(run.events())
    path = tmp_path / "escapes.jsonl"
    save_traces(path, [run.trace])
    app = StartApp(Settings(), load_engine=False, open_path=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.conversation.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        out = io.StringIO()
        Console(file=out, force_terminal=True, legacy_windows=False).print(
            app.screen._compositor.render_update(full=True)
        )
        drawn = out.getvalue()
    assert "␛]52;c;ZWNobyBwd25lZA==␇" in drawn  # it is on the screen, as text
    assert not [seq for seq in ("\x1b]", CLEAR, "\x1b[1A", "\x9b", "\x07") if seq in drawn]


def test_exec_shows_escapes_on_a_terminal_and_passes_them_through_a_pipe(tmp_path: Path):
    code = tmp_path / "escapes.py"
    code.write_text(f"import sys\nsys.stdout.write({ATTACK!r})\nprint()\n")
    exe = Path(sys.executable).with_name("start-tui")
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "start_tui"])]
    cmd += ["exec", "--no-language-layer", str(code)]
    piped = subprocess.run(cmd, capture_output=True, timeout=120)
    assert piped.returncode == 0 and piped.stdout == (ATTACK + "\n").encode()  # a pipe gets the exact bytes
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    shown = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    assert proc.returncode == 0 and "␛]52;c;ZWNobyBwd25lZA==␇" in shown
    assert not [seq for seq in ("\x1b]", CLEAR, "\x1b[1A", "\x07") if seq in shown]
