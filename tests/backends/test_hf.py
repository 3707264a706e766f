"""The transformers backend on a tiny random model: continuation through the kept cache equals a full re-run."""

from __future__ import annotations

from pathlib import Path

import pytest

from start_tui.backends import SamplingParams
from start_tui.backends.hf import TransformersBackend
from start_tui.errors import StartTuiError

GREEDY = SamplingParams(max_tokens=24, temperature=0.0)


def generate(backend: TransformersBackend, text: str, params: SamplingParams = GREEDY) -> str:
    return "".join(backend.stream(text, params))


def test_continuation_after_inserted_text_matches_a_full_rerun_and_feeds_only_new_tokens(tiny_dir: Path):
    prompt = "Let me compute the sum of the squares"
    hint = "\nWait, I should check this with Python.\n```python\n"

    kept = TransformersBackend(tiny_dir, seed=0)
    first = generate(kept, prompt)
    assert first
    text = prompt + first + hint
    held = len(kept._held)
    before = kept.stats.tokens_evaluated
    generate(kept, text, SamplingParams(max_tokens=1))  # one forward pass: the prefill of the new text
    prefill = kept.stats.tokens_evaluated - before
    second = generate(kept, text)  # the same text again: only its last token is fed

    fresh = TransformersBackend(tiny_dir, seed=0)
    rerun = generate(fresh, text)
    assert second == rerun  # greedy: same tokens as a full re-run of the whole text

    total = fresh.count_tokens(text)
    new_tokens = total - held  # the inserted text and the last sampled token (not fed yet)
    # only the new tokens, plus at most a token or two where the text re-tokenizes at the seam
    assert new_tokens <= prefill <= new_tokens + 2, (prefill, new_tokens, total)
    assert prefill < total / 2
    assert fresh.stats.tokens_evaluated >= total


def test_a_branch_from_an_earlier_point_cuts_the_cache_and_still_matches(tiny_dir: Path):
    backend = TransformersBackend(tiny_dir, seed=0)
    text = "Alternatively, the formula"
    long = text + generate(backend, text, SamplingParams(max_tokens=40))
    branch = long[: len(long) // 2] + " Wait,"
    got = generate(backend, branch)
    assert got == generate(TransformersBackend(tiny_dir, seed=0), branch)


def test_sampling_is_seeded(tiny_dir: Path):
    params = SamplingParams(max_tokens=20, temperature=1.0, top_p=0.9, top_k=50, seed=7)
    a = generate(TransformersBackend(tiny_dir), "Final answer:", params)
    b = generate(TransformersBackend(tiny_dir), "Final answer:", params)
    assert a == b


def test_metadata_and_profile(tiny_dir: Path):
    from start_tui.engine import select_profile

    backend = TransformersBackend(tiny_dir)
    meta = backend.metadata()
    assert meta["general.architecture"] == "llama"
    assert meta["start_tui.bos_token"] == "<bos>"
    # no chat template and a name of no known family: the user is asked, never given a guess
    with pytest.raises(StartTuiError, match=r"cannot tell which family 'tiny-lm\d*'.*pass --profile"):
        select_profile(meta)
    assert backend.device == "cpu"
    assert str(backend.model.dtype) == "torch.float32"


def test_bad_model_folders_say_what_is_wrong(tmp_path: Path):
    with pytest.raises(StartTuiError, match="no model folder"):
        TransformersBackend(tmp_path / "missing")
    with pytest.raises(StartTuiError, match=r"no config\.json"):
        TransformersBackend(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(StartTuiError, match="could not load"):
        TransformersBackend(tmp_path)
