"""The same Hint-infer problem through each backend, from `start-tui solve` and from the TUI's settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from start_tui.engine import load_traces
from start_tui.tui.app import StartApp
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.segments import ExecutionPanel
from tests.conftest import SUM_OF_SQUARES
from tests.servers import LlamaServer
from tests.tui.test_app import SIZE, run_of, start, wait_until


def solve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "start_tui", "solve", SUM_OF_SQUARES, "--max-tokens", "300", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_solve_through_the_server(server: LlamaServer, keyed: None, tmp_path: Path):
    trace_path = tmp_path / "run.jsonl"
    proc = solve(
        "--backend", "openai", "--base-url", server.url, "--api-key-env", "START_TEST_KEY", "--trace", str(trace_path),
        "--tokenizer", str(server.model_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (trace,) = load_traces(trace_path)
    # the served model wrote it (the server names its model after the file), and its code ran in the sandbox
    assert trace.meta["model"] != "" and trace.stats["tokens_generated"] > 0 and trace.status == "finished"
    ran = [s for s in trace.spans if s.kind == "output" and s.meta["executed"]]
    assert ran and trace.stats["tool_calls"] == len(ran)
    assert f" sandbox · run 1 · {'ok' if ran[0].meta['ok'] else 'error'}" in proc.stdout


def test_solve_through_transformers(tiny_dir: Path, tmp_path: Path):
    trace_path = tmp_path / "run.jsonl"
    proc = solve(
        "--backend", "hf", "--model", str(tiny_dir), "--profile", "gemma3-base", "--max-tokens", "20",
        "--trace", str(trace_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (trace,) = load_traces(trace_path)
    # a random model: it only has to stream its 20 tokens, through the transformers backend
    assert trace.stats["tokens_generated"] == 20 and trace.meta["finish_reason"] == "max_tokens"
    assert trace.meta["model"] == tiny_dir.name


def test_solve_with_a_bad_backend_setup_says_one_sentence(tmp_path: Path):
    proc = solve("--backend", "hf", "--model", str(tmp_path / "nothing"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "There is no model folder" in proc.stderr
    proc = solve("--backend", "openai")
    assert "--backend openai needs --base-url" in proc.stderr


@pytest.mark.parametrize("kind", ["openai", "hf"])
async def test_the_tui_runs_a_problem_on_the_backend_from_its_settings(kind, server, keyed, tiny_dir):
    if kind == "openai":
        settings = Settings(
            backend="openai",
            base_url=server.url,
            api_key_env="START_TEST_KEY",
            max_tokens=300,
            tokenizer=str(server.model_path),
        )
    else:
        settings = Settings(backend="hf", model=str(tiny_dir), profile="gemma3-base", max_tokens=40)
    app = StartApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app)
        run = run_of(app)
        await wait_until(pilot, lambda: run.finished and not app._driving, what="the run to finish")
        assert run.trace.status == "finished"
        assert app.facts.model == app.reasoner.backend.name
        if kind == "openai":
            assert app.query(ExecutionPanel)  # the before-stop hint opened a code block that ran
        else:
            assert run.trace.stats["tokens_generated"] == 40
