"""Fixtures of the training tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from start_tui.engine import Trace, load_traces
from start_tui.engine.trace import save_traces
from tests.conftest import DATA
from tests.training.test_masking import two_executions
from training.dataset import write_tokenized


def sft_traces() -> list[Trace]:
    """Eight traces to fine-tune on: a recorded run and one with two executions, four times each."""
    traces = []
    for i in range(4):
        [recorded] = load_traces(DATA / "sum-of-squares.jsonl")
        made = two_executions()
        recorded.id, made.id = f"recorded-{i}", f"made-{i}"
        traces += [made, recorded]
    return traces


@pytest.fixture(scope="module")
def tokenized(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("sft-data")
    save_traces(folder / "traces.jsonl", sft_traces())
    out = folder / "tokenized.arrow"  # what the SFT stage writes: an Arrow stream, memory-mapped by every rank
    figures = write_tokenized(folder / "traces.jsonl", out, AutoTokenizer.from_pretrained(tiny_dir), max_length=2048)
    assert figures["examples"] == 8 and figures["overlength"] == 0
    return out


def run_ranks(cmd: list[str], env: dict[str, str], timeout: float = 300) -> None:
    """Run a launch line that starts several ranks; a hang is a failure, and kills the ranks too."""
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the ranks, not only torchrun
        proc.communicate()
        pytest.fail(f"the ranks hung for {timeout:.0f} s (their collectives did not pair up)")
    assert proc.returncode == 0, err[-3000:]


def free_port() -> int:
    """A port nothing listens on now: the ranks' rendezvous, never one another run may hold."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
