"""The app in a real terminal (tmux), driven with keys as a person would: solve, hint by hand, branch, save."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from start_tui.engine import load_traces
from start_tui.errors import StartTuiError
from tests.conftest import TEST_MODEL

pytestmark = [pytest.mark.model, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


class Terminal:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.socket = f"start-tui-test-{uuid.uuid4().hex[:8]}"
        self.cwd = cwd
        exe = Path(sys.executable).with_name("start-tui")
        command = f"{exe if exe.exists() else 'start-tui'}; echo '[exited]'; sleep 60"
        env_args = [f"{k}={v}" for k, v in env.items()]
        self.tmux(
            "new-session",
            "-d",
            "-s",
            "app",
            "-x",
            "120",
            "-y",
            "40",
            "-c",
            str(cwd),
            "env",
            "-u",
            "COLUMNS",
            "-u",
            "LINES",
            *env_args,
            "sh",
            "-c",
            command,
        )

    @classmethod
    def for_app(cls, cwd: Path, config: Path, sessions: Path) -> Terminal:
        """The app's terminal, with its settings file and sessions folder in the test's folder."""
        env = {
            "START_TUI_CONFIG": str(config),
            "START_TUI_SESSIONS": str(sessions),
            "TERM": "xterm-256color",
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(cwd)),
        }
        return cls(cwd, env)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "app", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "app", "-l", text)

    def wait_for(self, *texts: str, timeout: float = 120) -> str:
        """The screen once every one of `texts` is on it at the same time. A capture can catch the app
        between two frames, so a screen is read again rather than judged by one capture."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            assert "[exited]" not in screen, screen  # a crash prints its traceback, then the shell says this
            time.sleep(0.2)
        raise AssertionError(f"{texts!r} never appeared together on the screen:\n{self.screen()}")

    def find_by_paging(self, texts: tuple[str, ...], pages: int = 30) -> bool:
        """Page up, then down, through the view until one of `texts` is on the screen."""
        for key in ("PageUp", "PageDown"):
            for _ in range(pages):
                screen = self.screen()
                if any(t in screen for t in texts):
                    return True
                self.keys(key)
                time.sleep(0.2)
                if self.screen() == screen:
                    break  # at the end of the view in this direction
        return any(t in self.screen() for t in texts)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def test_a_person_solves_hints_branches_and_saves_in_a_real_terminal(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f"model = '{TEST_MODEL}'\nmax_tokens = 400\nrounds = 1\n")
    sessions = tmp_path / "sessions"
    term = Terminal.for_app(tmp_path, config, sessions)
    try:
        term.wait_for(" ready ")
        term.type("What is the sum of the squares of the integers from 1 to 50?")
        term.wait_for("integers from 1 to 50?")  # the whole problem is in the editor
        term.keys("C-r")
        term.wait_for(" streaming ")  # the model is writing (whatever words it chose)
        term.keys("h")  # pause and open the hint input
        term.wait_for("Inject a hint")
        term.type("Let me double-check with a direct computation.")
        term.keys("Enter")
        term.wait_for(" finished ")
        [main] = load_traces(next(sessions.glob("*.jsonl")))
        assert any(s.kind == "hint" and s.meta["source"] == "user" for s in main.spans)
        assert any(s.kind == "output" and s.meta["executed"] for s in main.spans)
        found = term.find_by_paging(("hint · you · by hand", "hint by hand"))
        assert found, [(x.kind, x.text[:40], x.meta.get("source")) for x in main.spans[1:]]

        term.keys("End")  # back to the end: the segment list opens at the segment in view
        term.keys("b")
        term.wait_for("Branch after which segment?")
        term.keys("Enter")  # the last segment is highlighted
        term.wait_for("Hint to continue the branch with")
        term.type("Let me recompute the sum with the formula n(n+1)(2n+1)/6.")
        term.keys("Enter")
        term.wait_for("branch 2/2")
        term.wait_for(" finished ")

        term.keys("s")
        term.wait_for("Save all branches")
        term.keys("Enter")  # the default name, in the working folder
        term.wait_for("Saved 2 branch(es)")
        [saved] = list(tmp_path.glob("start-tui-*.jsonl"))
        traces = load_traces(saved)
        assert len(traces) == 2 and traces[1].meta["parent"]["trace_id"] == traces[0].id

        term.keys("C-q")
        term.wait_for("[exited]", timeout=30)
    finally:
        term.close()


def finished(session: Path) -> bool:
    """Whether the last run of an autosaved session has finished (a line being written reads as not yet)."""
    try:
        traces = load_traces(session)
    except StartTuiError:
        return False
    return bool(traces) and traces[-1].status == "finished"


def test_a_person_picks_a_model_solves_branches_and_goes_back_to_an_earlier_session(tmp_path: Path):
    """The issue-37 drive: pick the second embedded model, solve, branch from the first segment with a
    hint, open the session list, reopen the first session; each step read off the screen."""
    config = tmp_path / "config.toml"
    config.write_text("max_tokens = 300\nrounds = 1\n")  # the default model: the picker changes it
    sessions = tmp_path / "sessions"
    term = Terminal.for_app(tmp_path, config, sessions)
    try:
        term.wait_for(" ready ", timeout=300)
        term.wait_for("Qwen2.5-Coder")
        term.keys("F4")
        term.wait_for("Pick a model")
        term.type("gemma3")
        term.keys("Enter")  # the search leaves one model
        deadline = time.monotonic() + 120
        while not ("gemma3-270m" in config.read_text() and " ready " in term.screen()):  # saved once it loaded
            assert time.monotonic() < deadline, term.screen()
            time.sleep(0.2)
        assert "Pick a model" not in term.screen() and "Gemma 3 270M" in term.screen()

        term.type("What is the sum of the squares of the integers from 1 to 50?")
        term.keys("C-r")
        term.wait_for(" finished ", timeout=300)
        term.keys("Home")
        term.keys("b")
        screen = term.wait_for("Branch after which segment?")
        assert "1. thinking · " in screen or "1. hint" in screen
        term.keys("Enter")  # the segment in view: the first
        term.wait_for("Hint to continue the branch with")
        term.wait_for("fresh budget")
        term.type("Let me compute it with the formula n(n+1)(2n+1)/6.")
        term.keys("Enter")
        term.wait_for("branch 2/2")
        term.wait_for(" finished ", timeout=300)
        first = next(sessions.glob("*.jsonl"))
        assert [t.meta.get("parent", {}).get("offset", 0) > 0 for t in load_traces(first)] == [False, True]

        term.keys("C-n")  # to the problem field, its text selected: what is typed replaces it
        time.sleep(0.3)
        term.type("What is 17 times 23?")
        term.wait_for("17 times 23")
        term.keys("C-r")
        deadline = time.monotonic() + 60  # the new run's session file: the status may still read the old run
        while len(list(sessions.glob("*.jsonl"))) < 2:
            assert time.monotonic() < deadline, term.screen()
            time.sleep(0.2)
        deadline = time.monotonic() + 300
        while not all(finished(f) for f in sessions.glob("*.jsonl")):
            assert time.monotonic() < deadline, term.screen()
            time.sleep(0.5)
        term.wait_for(" finished ")

        term.keys("F3")
        term.wait_for("Enter opens · Delete deletes")
        term.wait_for("(on screen)", "squares of the integers")
        term.keys("Down")
        term.keys("Enter")  # the older session
        screen = term.wait_for(" opened ")
        assert "squares of the integers" in screen and "branch 2/2" in screen

        term.keys("C-q")
        term.wait_for("[exited]", timeout=30)
    finally:
        term.close()
