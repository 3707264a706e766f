"""The OpenAI-compatible backend against a real llama.cpp server on loopback: Hint-infer, errors, a killed server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from start_tui.backends import BackendError
from start_tui.backends.openai import OpenAIBackend
from start_tui.engine import CodeFinished, HintInserted, TextDelta, load_traces
from start_tui.errors import StartTuiError
from start_tui.options import EngineOptions, build_reasoner
from tests.conftest import SUM_OF_SQUARES
from tests.servers import LlamaServer, free_port


def served_options(server: LlamaServer, **kw: object) -> EngineOptions:
    base: dict[str, object] = dict(
        backend="openai",
        base_url=server.url,
        api_key_env="START_TEST_KEY",
        max_tokens=400,
        rounds=1,
        conjunctions=(),
        tokenizer=str(server.model_path),  # llama-cpp-python's server does not say which template it holds
    )
    base.update(kw)
    return EngineOptions(**base)  # type: ignore[arg-type]


def test_hint_infer_runs_through_the_server(server: LlamaServer, keyed: None, tmp_path: Path):
    reasoner, sandbox = build_reasoner(served_options(server))
    try:
        run = reasoner.start(SUM_OF_SQUARES, trace_path=tmp_path / "t.jsonl")
        events = list(run.events())
    finally:
        sandbox.close()
        reasoner.backend.close()
    assert reasoner.profile.name == "gemma3-base"  # picked from the GGUF given as its tokenizer
    hints = [e for e in events if isinstance(e, HintInserted)]
    runs = [e for e in events if isinstance(e, CodeFinished)]
    assert hints and hints[0].trigger == "before_stop"
    assert runs and all(r.executed for r in runs)
    assert run.trace.status == "finished"
    assert run.trace.stats["tokens_generated"] > 0
    [saved] = load_traces(tmp_path / "t.jsonl")
    assert saved.text == run.trace.text


def test_the_served_model_name_is_checked(server: LlamaServer, keyed: None):
    with pytest.raises(StartTuiError, match=r"serves .*, not 'no-such-model'"):
        OpenAIBackend(server.url, "no-such-model", api_key_env="START_TEST_KEY")
    backend = OpenAIBackend(server.url, api_key_env="START_TEST_KEY")  # none given: the server's first
    assert backend.model.endswith(".gguf")


def test_a_wrong_api_key_is_one_sentence(server: LlamaServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("START_TEST_KEY", "wrong")
    with pytest.raises(StartTuiError, match=r"refused the API key \(401\); set \$START_TEST_KEY"):
        OpenAIBackend(server.url, api_key_env="START_TEST_KEY")


def test_a_server_that_is_down_or_a_bad_url(keyed: None):
    with pytest.raises(StartTuiError, match=r"is not reachable .*2 tries.*is it running\?"):
        OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", retries=1, backoff_s=0.01)
    with pytest.raises(StartTuiError, match="is not an http"):
        OpenAIBackend("ftp://example.org")
    with pytest.raises(StartTuiError, match="is not an http"):
        OpenAIBackend("localhost:8000")


def test_the_cli_says_one_sentence_when_the_server_is_down():
    port = free_port()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "start_tui",
            "solve",
            "1+1?",
            "--backend",
            "openai",
            "--base-url",
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert f"the server at http://127.0.0.1:{port}/v1 is not reachable" in proc.stderr


def test_a_server_killed_mid_stream_leaves_the_trace_and_says_so(model_path: Path, tmp_path: Path):
    with LlamaServer(model_path) as server:
        reasoner, sandbox = build_reasoner(
            EngineOptions(
                backend="openai", base_url=server.url, max_tokens=600, hints_enabled=False, tokenizer=str(model_path)
            )
        )
        run = reasoner.start(SUM_OF_SQUARES, trace_path=tmp_path / "killed.jsonl")
        seen = 0
        with pytest.raises(BackendError, match=r"closed the stream after \d+ tokens .*the trace so far is kept"):
            for event in run.events():
                if isinstance(event, TextDelta):
                    seen += 1
                    if seen == 20:
                        server.kill()
        sandbox.close()
    assert seen >= 20
    assert run.trace.status == "error" and "closed the stream" in run.trace.meta["error"]
    [saved] = load_traces(tmp_path / "killed.jsonl")
    assert saved.status == "error"
    assert saved.text == run.trace.text and len(saved.text) > len(saved.spans[0].text)


def test_many_problems_at_once_against_the_server(server: LlamaServer, keyed: None, tmp_path: Path):
    from start_tui.batch import Outcome, solve_many
    from start_tui.benchmarks import Problem

    problems = [Problem(str(i), "t", f"What is {i} + {i * 3}?", str(4 * i)) for i in range(1, 5)]
    done: list[Outcome] = []
    tokens = [0]
    outcomes = solve_many(
        problems,
        served_options(server, max_tokens=60, hints_enabled=False),
        concurrency=2,
        trace_path=tmp_path / "many.jsonl",
        on_done=done.append,
        tokens=tokens,
    )
    assert [o.problem.id for o in outcomes] == ["1", "2", "3", "4"]
    assert len(done) == 4 and all(o.error is None and o.trace is not None for o in outcomes)
    assert tokens[0] == sum(o.trace.stats["tokens_generated"] for o in outcomes if o.trace)
    saved = load_traces(tmp_path / "many.jsonl")
    assert sorted(t.problem for t in saved) == sorted(p.problem for p in problems)


def test_the_batch_command_writes_rows(server: LlamaServer, keyed: None, tmp_path: Path):
    problems = tmp_path / "p.txt"
    problems.write_text("What is 2 + 3?\nWhat is 7 * 6?\n")
    out = tmp_path / "rows.jsonl"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "start_tui", "batch", str(problems), "-j", "2", "--backend", "openai"),
            *("--base-url", server.url, "--api-key-env", "START_TEST_KEY", "--max-tokens", "40", "--no-hints"),
            *("--tokenizer", str(server.model_path)),
            *("--out", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["1", "2"] and all(r["error"] is None for r in rows)
    assert "2 problems in" in proc.stderr


def test_a_stream_the_server_cuts_short_is_an_error_not_an_answer(model_path: Path):
    """llama-cpp-python's server, by default, ends a running stream with [DONE] when another request arrives."""
    import threading

    from start_tui.backends import SamplingParams

    with LlamaServer(model_path, interrupt_requests=True) as server:
        first, second = OpenAIBackend(server.url), OpenAIBackend(server.url)
        params = SamplingParams(max_tokens=300, temperature=0.0)
        got: list[str] = []
        other = threading.Thread(target=lambda: list(second.stream("Count to ten:", SamplingParams(max_tokens=5))))
        with pytest.raises(BackendError, match=r"without a finish reason .*--interrupt_requests False"):
            for delta in first.stream("Write a long story about a cat.", params):
                got.append(delta)
                if len(got) == 5:
                    other.start()
        other.join()
    assert 5 <= len(got) < 300
