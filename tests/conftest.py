"""Shared fixtures: the real embedded model (llama.cpp on the CPU), a warm sandbox, the shared data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from start_tui.backends.embedded import GEMMA_270M, embedded_model_path
from start_tui.backends.llama_cpp import LlamaCppBackend
from start_tui.engine import HintPolicy, Reasoner, RunConfig, select_profile
from start_tui.sandbox import Sandbox, SandboxConfig
from tests.servers import LlamaServer
from tests.tiny_lm import build_tiny_lm

MODEL_FIXTURES = frozenset({"model_path", "backend", "fresh_backend", "server", "tiny_dir"})
"""A test that uses one of these runs a real model: it belongs to the slow layer (the `model` marker)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") or MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With START_TUI_NO_SKIPS set (CI sets it), a skipped test fails: a check that cannot run where
    everything it needs is installed (tmux, ../shared, the unprivileged user) must not pass as green."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("START_TUI_NO_SKIPS") and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped where every test must run (START_TUI_NO_SKIPS is set): {reason}"


TEST_MODEL = GEMMA_270M.name
"""The tests' model: the embedded Gemma 3 270M, fast enough for CI (the default 1.5B runs in its own tests)."""
SHARED = Path(__file__).resolve().parents[2] / "shared"
SUM_OF_SQUARES = "What is the sum of the squares of the integers from 1 to 50?"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def model_path() -> Path:
    return embedded_model_path(GEMMA_270M.name)


@pytest.fixture(scope="session")
def backend(model_path: Path) -> Iterator[LlamaCppBackend]:
    """One loaded model for the tests that do not count tokens (KV state carries between them)."""
    b = LlamaCppBackend(model_path, n_ctx=4096)
    yield b
    b.close()


@pytest.fixture
def fresh_backend(model_path: Path) -> Iterator[LlamaCppBackend]:
    """A model with an empty context, for tests that count evaluated tokens."""
    b = LlamaCppBackend(model_path, n_ctx=4096)
    yield b
    b.close()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(timeout_s=5.0)) as sb:
        yield sb


def make_reasoner(backend: LlamaCppBackend, sandbox: Sandbox, **policy: object) -> Reasoner:
    max_tokens = int(policy.pop("max_tokens", 400))  # type: ignore[call-overload]
    loop_chars = int(policy.pop("loop_chars", RunConfig.loop_chars))  # type: ignore[call-overload]
    return Reasoner(
        backend,
        sandbox,
        select_profile(backend.metadata()),
        HintPolicy(**policy),  # type: ignore[arg-type]
        RunConfig(max_tokens=max_tokens, loop_chars=loop_chars),
    )


SERVER_KEY = "test-key-123"


@pytest.fixture(scope="session")
def server(model_path: Path) -> Iterator[LlamaServer]:
    """llama-cpp-python's OpenAI-compatible server on a loopback port, serving the embedded model."""
    with LlamaServer(model_path, api_key=SERVER_KEY) as s:
        yield s


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's API key in $START_TEST_KEY (what --api-key-env START_TEST_KEY reads)."""
    monkeypatch.setenv("START_TEST_KEY", SERVER_KEY)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random causal LM and its local tokenizer, as a transformers folder."""
    pytest.importorskip("transformers")
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(autouse=True)
def sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Autosaved sessions go to a temporary folder, never to the user's."""
    folder = tmp_path / "sessions"
    monkeypatch.setenv("START_TUI_SESSIONS", str(folder))
    return folder
