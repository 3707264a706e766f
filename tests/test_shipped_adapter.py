"""The self-taught LoRA shipped with the package: applied to the embedded Gemma 3 270M (`--model gemma3-270m`) by
default, under the prompt it was trained with; `--no-adapter` gives the raw base; another adapter or model
replaces it; the headers say which model runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from start_tui.backends import embedded
from start_tui.backends.gguf import check_adapter, read_gguf
from start_tui.engine import PROFILES, select_profile
from start_tui.errors import StartTuiError
from start_tui.options import EngineOptions, front_defaults, open_model, read_prompt_file
from tests.conftest import TEST_MODEL
from tests.test_cli import cli

ROOT = Path(__file__).resolve().parents[1]


def next_logits(backend, prompt: str) -> np.ndarray:
    """The model's next-token logits after `prompt` (as test_export reads them)."""
    import llama_cpp

    backend.llm.reset()
    backend.llm.eval(backend.llm.tokenize(prompt.encode(), add_bos=True))
    last = llama_cpp.llama_get_logits_ith(backend.llm._ctx.ctx, -1)
    return np.ctypeslib.as_array(last, shape=(backend.llm.n_vocab(),)).copy()


def test_the_shipped_adapter_is_small_and_made_for_the_embedded_model(model_path: Path):
    size = embedded.SHIPPED_ADAPTER.stat().st_size
    assert 1_000_000 < size <= 25 * 2**20
    adapter = check_adapter(read_gguf(model_path), embedded.SHIPPED_ADAPTER)  # the base it names is this one
    assert adapter.path.resolve() == embedded.SHIPPED_ADAPTER


def test_the_recipe_that_made_it_prompts_as_its_profile_does():
    recipe_prompt = read_prompt_file(str(ROOT / "training/recipes/self-taught-prompt.txt"))
    assert recipe_prompt == PROFILES[embedded.SHIPPED_PROFILE].few_shot
    assert "training/recipes/self-taught-prompt.txt" in (ROOT / "training/recipes/self-taught-270m.toml").read_text()


def test_the_embedded_270m_runs_the_shipped_adapter_and_no_adapter_the_raw_base(model_path: Path):
    prompt = PROFILES[embedded.SHIPPED_PROFILE].build_prompt("What is 17 * 23?", {})
    default = open_model(EngineOptions(model=TEST_MODEL, n_ctx=1024))
    try:
        assert default.adapter is not None and default.adapter.resolve() == embedded.SHIPPED_ADAPTER
        assert default.name == "Gemma 3 270M + self-taught LoRA (demo)"
        meta = default.metadata()
        assert meta["start_tui.note"] == embedded.NOTE_ADAPTED and "--model PATH.gguf" in embedded.NOTE_ADAPTED
        assert select_profile(meta).name == embedded.SHIPPED_PROFILE
        adapted = next_logits(default, prompt)
    finally:
        default.close()
    raw = open_model(EngineOptions(model=TEST_MODEL, n_ctx=1024, shipped_adapter=False))
    try:
        assert raw.adapter is None and raw.name == "Gemma 3 270M base (demo)"
        assert raw.metadata()["start_tui.note"] == embedded.NOTE_RAW
        assert select_profile(raw.metadata()).name == "gemma3-base"
        assert np.abs(next_logits(raw, prompt) - adapted).max() > 0.05  # the adapter is applied, not only named
    finally:
        raw.close()
    named = open_model(
        EngineOptions(model=TEST_MODEL, n_ctx=1024, adapter=str(embedded.SHIPPED_ADAPTER), shipped_adapter=False)
    )
    try:  # the same file given by hand: the same model, prompted the same way
        assert select_profile(named.metadata()).name == embedded.SHIPPED_PROFILE
        assert np.abs(next_logits(named, prompt) - adapted).max() < 1e-4
    finally:
        named.close()
    chosen = open_model(EngineOptions(n_ctx=1024, model=str(model_path)))
    try:  # a model given by path runs as it is, even the embedded file
        assert chosen.adapter is None and "start_tui.note" not in chosen.metadata()
    finally:
        chosen.close()


def test_a_recipe_never_generates_with_the_shipped_adapter():
    assert front_defaults("recipe").shipped_adapter is False
    assert front_defaults("solve").shipped_adapter is True and front_defaults("tui").shipped_adapter is True


def test_an_install_without_the_adapter_says_so_in_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(embedded, "SHIPPED_ADAPTER", tmp_path / "gone.gguf")
    with pytest.raises(StartTuiError, match="--no-adapter") as info:
        embedded.shipped_adapter_path()
    assert "\n" not in str(info.value)


@pytest.mark.model
def test_solve_says_which_model_runs():
    adapted = cli("solve", "What is 2 + 3?", "--model", TEST_MODEL, "--max-tokens", "4", "--no-hints")
    assert adapted.returncode == 0, adapted.stderr
    head = " ".join(adapted.stdout.split())  # rich wraps the note
    assert "Gemma 3 270M + self-taught LoRA (demo) · profile gemma3-self-taught" in head
    assert "a 270M demonstration model" in head and "--model PATH.gguf runs a real reasoning model" in head
    raw = cli("solve", "What is 2 + 3?", "--model", TEST_MODEL, "--max-tokens", "4", "--no-hints", "--no-adapter")
    assert raw.returncode == 0, raw.stderr
    head = " ".join(raw.stdout.split())
    assert "Gemma 3 270M base (demo) · profile gemma3-base" in head and "the raw embedded Gemma 3 270M base" in head
