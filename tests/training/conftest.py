"""Fixtures of the training tests."""

from __future__ import annotations

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
