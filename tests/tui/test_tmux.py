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

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "app", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "app", "-l", text)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            assert "[exited]" not in screen and "Traceback" not in screen, screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared on the screen:\n{self.screen()}")

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
    env = {
        "START_TUI_CONFIG": str(config),
        "START_TUI_SESSIONS": str(sessions),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    term = Terminal(tmp_path, env)
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
