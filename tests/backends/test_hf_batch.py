"""Transformers lanes: K sequences in one padded forward decode what the single backend decodes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from start_tui.backends import SamplingParams
from start_tui.backends.batching import Lane, common_prefix
from tests.tiny_lm import build_tiny_lm

pytest.importorskip("transformers")
pytestmark = pytest.mark.model

GREEDY = SamplingParams(max_tokens=14, temperature=0.0)
PROMPTS = ["Let me compute the", "Wait, I should", "Final answer:"]


def drain(backend: object, text: str) -> str:
    return "".join(backend.stream(text, GREEDY))  # type: ignore[attr-defined]


def together(lanes: list[Lane], texts: list[str]) -> list[str]:
    outs = [""] * len(texts)

    def go(i: int) -> None:
        outs[i] = drain(lanes[i], texts[i])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outs


@pytest.mark.parametrize("arch", ["llama", "gemma3"])  # gemma3: sliding-window layers with a window of 4
def test_lanes_decode_what_one_sequence_alone_decodes(tmp_path: Path, arch: str):
    from start_tui.backends.hf import TransformersBackend

    folder = build_tiny_lm(tmp_path / arch, arch=arch)
    single = TransformersBackend(folder, device="cpu")
    alone = [drain(single, p) for p in PROMPTS]
    with single.batch(3) as batch:
        assert together(batch.lanes, PROMPTS) == alone
        # an insertion into one sequence, and another cut back to an earlier point, in the same steps
        grown = PROMPTS[1] + alone[1] + " check"
        cut = PROMPTS[2] + alone[2][:3]
        want = [drain(single, grown), drain(single, cut)]
        lane = batch.lanes[1]
        held, target = list(batch._seqs[1].kv), single.tokenize(grown)
        evaluated, generated = lane.stats.tokens_evaluated, lane.stats.tokens_generated
        assert together([batch.lanes[1], batch.lanes[2]], [grown, cut]) == want
        # only what differs from the tokens the sequence holds is decoded (and each new token but the last)
        keep = min(common_prefix(held, target), len(target) - 1)
        fed_back = lane.stats.tokens_generated - generated - 1
        assert lane.stats.tokens_evaluated - evaluated == len(target) - keep + fed_back
    single.close()
