"""`start-tui train export`: trained folder -> GGUF -> llama.cpp gives transformers' logits; LoRA adapters too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from start_tui.errors import StartTuiError
from tests.tiny_lm import build_tiny_lm

pytest.importorskip("transformers")
pytest.importorskip("gguf")
pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.model

PROMPT = "the quick brown fox jumps over the lazy dog and then"
F32_TOLERANCE = 1e-3  # measured: 1.6e-4 (Llama) and 5e-4 (Gemma 3) over logits of magnitude ~1


def hf_logits(folder: Path, ids: list[int], adapter: Path | None = None) -> np.ndarray:
    """The transformers backend's logits at every position of `ids`."""
    import torch

    from start_tui.backends.hf import TransformersBackend

    backend = TransformersBackend(folder, device="cpu", dtype="float32", adapter=adapter)
    with torch.no_grad():
        return backend.model(torch.tensor([ids])).logits[0].numpy()


def llama_logits(gguf: Path, ids: list[int], adapter: Path | None = None) -> np.ndarray:
    """The llama.cpp backend's next-token logits after `ids`."""
    import llama_cpp

    from start_tui.backends.llama_cpp import LlamaCppBackend

    backend = LlamaCppBackend(gguf, n_ctx=256, adapter=adapter)
    try:
        backend.llm.reset()
        backend.llm.eval(ids)
        last = llama_cpp.llama_get_logits_ith(backend.llm._ctx.ctx, -1)
        return np.ctypeslib.as_array(last, shape=(backend.llm.n_vocab(),)).copy()
    finally:
        backend.close()


def prompt_ids(folder: Path) -> list[int]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    return [tok.bos_token_id, *tok(PROMPT, add_special_tokens=False)["input_ids"]]


@pytest.fixture(scope="module", params=["llama", "gemma3"])
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four layers; Gemma 3's alternate sliding (a window of 4 tokens) and full attention."""
    return build_tiny_lm(tmp_path_factory.mktemp(f"export-{request.param}"), layers=4, arch=request.param)


def test_an_f32_export_gives_the_transformers_logits_on_llama_cpp(tiny: Path, tmp_path: Path):
    from training.export import export

    figures = export(tiny, tmp_path / "tiny-f32.gguf", "f32")
    assert figures["tokenizer_check"].startswith("llama.cpp and transformers agree")
    ids = prompt_ids(tiny)
    assert len(ids) > 8  # past the sliding window, so the window pattern is checked too
    ref = hf_logits(tiny, ids)[-1]
    got = llama_logits(tmp_path / "tiny-f32.gguf", ids)
    assert np.abs(got - ref).max() < F32_TOLERANCE, np.abs(got - ref).max()


def test_quantized_exports_load_and_stay_close(tiny: Path, tmp_path: Path):
    from start_tui.backends.gguf import read_gguf
    from training.export import export_model

    ids = prompt_ids(tiny)
    ref = hf_logits(tiny, ids)[-1]
    for qtype, file_type, tolerance in (("f16", 1, 0.02), ("q8_0", 7, 0.1), ("q4_k_m", 15, 1.0)):
        path = tmp_path / f"tiny-{qtype}.gguf"
        export_model(tiny, path, qtype)
        assert read_gguf(path).metadata["general.file_type"] == file_type
        assert not list(tmp_path.glob("*.partial"))  # the f32 step is gone
        got = llama_logits(path, ids)
        assert np.abs(got - ref).max() < tolerance, (qtype, np.abs(got - ref).max())


@pytest.fixture(scope="module")
def lora(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter with random A and B (an untrained adapter would be the identity)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False)
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.mul_(3.0)  # a visible change of the output
    out = tmp_path_factory.mktemp("lora") / "adapter"
    peft_model.save_pretrained(out)
    return out


def test_a_lora_gguf_changes_the_base_as_the_merged_model_does(tiny: Path, lora: Path, tmp_path: Path):
    from start_tui.backends.gguf import read_gguf
    from training.export import export

    base_gguf = tmp_path / "base.gguf"
    export(tiny, base_gguf, "f32")
    figures = export(lora, tmp_path / "adapter.gguf", "f32", base=tiny, base_gguf=base_gguf)
    assert figures["layers"] == 4 * 7 and figures["rank"] == 4 and figures["fingerprinted"]
    meta = read_gguf(tmp_path / "adapter.gguf").metadata
    assert meta["general.type"] == "adapter" and meta["adapter.lora.alpha"] == 8.0

    ids = prompt_ids(tiny)
    merged = hf_logits(tiny, ids, adapter=lora)[-1]  # peft's merge_and_unload
    base = llama_logits(base_gguf, ids)
    adapted = llama_logits(base_gguf, ids, adapter=tmp_path / "adapter.gguf")
    assert np.abs(base - merged).max() > 50 * F32_TOLERANCE  # the adapter matters...
    assert np.abs(adapted - merged).max() < F32_TOLERANCE  # ...and llama.cpp applies it as peft merges it

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    merged_dir = tmp_path / "merged"
    PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny), lora).merge_and_unload().save_pretrained(
        merged_dir
    )
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (merged_dir / name).write_bytes((tiny / name).read_bytes())
    export(merged_dir, tmp_path / "merged.gguf", "f32")
    assert np.abs(llama_logits(tmp_path / "merged.gguf", ids) - adapted).max() < F32_TOLERANCE

    from start_tui.backends import SamplingParams
    from start_tui.backends.llama_cpp import LlamaCppBackend

    greedy = SamplingParams(max_tokens=12, temperature=0.0)
    with_adapter = LlamaCppBackend(base_gguf, n_ctx=256, adapter=tmp_path / "adapter.gguf")
    merged_backend = LlamaCppBackend(tmp_path / "merged.gguf", n_ctx=256)
    try:
        want = "".join(merged_backend.stream(PROMPT, greedy))
        assert "".join(with_adapter.stream(PROMPT, greedy)) == want
        with with_adapter.batch(2) as batch:  # parallel samples carry the adapter onto their context
            assert "".join(batch.lanes[0].stream(PROMPT, greedy)) == want
    finally:
        with_adapter.close()
        merged_backend.close()


def test_an_adapter_on_the_wrong_model_is_one_sentence(tiny: Path, lora: Path, tmp_path: Path):
    from start_tui.backends.llama_cpp import LlamaCppBackend
    from training.export import export

    base_gguf = tmp_path / "base.gguf"
    export(tiny, base_gguf, "f32")
    export(lora, tmp_path / "adapter.gguf", "f32", base=tiny, base_gguf=base_gguf)
    arch = "gemma3" if json.loads((tiny / "config.json").read_text())["model_type"] == "gemma3_text" else "llama"
    other = build_tiny_lm(tmp_path / "other", layers=2, arch="gemma3" if arch == "llama" else "llama")
    other_gguf = tmp_path / "other.gguf"
    export(other, other_gguf, "f32")
    same_arch = build_tiny_lm(tmp_path / "same", layers=2, arch=arch, seed=3)
    same_gguf = tmp_path / "same.gguf"
    export(same_arch, same_gguf, "f32")
    cases = {
        other_gguf: "is for a",
        same_gguf: "was trained over",  # same architecture, two layers instead of four
    }
    for model, message in cases.items():
        with pytest.raises(StartTuiError, match=message) as info:
            LlamaCppBackend(model, n_ctx=64, adapter=tmp_path / "adapter.gguf")
        assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")
    with pytest.raises(StartTuiError, match="not a LoRA adapter"):
        LlamaCppBackend(base_gguf, n_ctx=64, adapter=base_gguf)
    with pytest.raises(StartTuiError, match="does not exist"):
        LlamaCppBackend(base_gguf, n_ctx=64, adapter=tmp_path / "missing.gguf")
    (tmp_path / "cut.gguf").write_bytes((tmp_path / "adapter.gguf").read_bytes()[:200])
    with pytest.raises(StartTuiError, match="truncated"):
        LlamaCppBackend(base_gguf, n_ctx=64, adapter=tmp_path / "cut.gguf")


def test_export_refuses_what_llama_cpp_would_compute_differently(tmp_path: Path):
    from training.export import export

    folder = build_tiny_lm(tmp_path / "g", layers=2, arch="gemma3")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["query_pre_attn_scalar"] = 256
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(StartTuiError, match="query_pre_attn_scalar"):
        export(folder, tmp_path / "g.gguf", "f32")
    cfg["query_pre_attn_scalar"] = 16
    cfg["rope_parameters"]["sliding_attention"]["rope_theta"] = 20000.0
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(StartTuiError, match="sliding-window RoPE base"):
        export(folder, tmp_path / "g.gguf", "f32")
    cfg["model_type"] = "phi3"
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(StartTuiError, match="'phi3'"):
        export(folder, tmp_path / "g.gguf", "f32")
    with pytest.raises(StartTuiError, match="--type must be one of"):
        export(folder, tmp_path / "g.gguf", "q3_x")
    with pytest.raises(StartTuiError, match="is not a folder"):
        export(tmp_path / "nowhere", None, "f16")
    assert not list(tmp_path.glob("*.gguf*"))  # nothing half-written is left


def test_the_export_command(tiny: Path, tmp_path: Path):
    out = tmp_path / "cli.gguf"
    run = subprocess.run(
        [sys.executable, "-m", "start_tui", "train", "export", str(tiny), "--out", str(out), "--type", "f16"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["path"] == str(out) and figures["type"] == "f16" and out.is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "start_tui", "train", "export", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0 and "is not a folder" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_the_embedded_model_goes_to_transformers_and_back(tmp_path: Path):
    """The shipped path: the embedded GGUF, converted for training, exported again, gives the same logits."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.convert import base_model_dir
    from training.export import export

    folder = base_model_dir("embedded")
    figures = export(folder, tmp_path / "g270-f16.gguf", "f16")
    assert figures["tokenizer"] == "copied from tokenizer.gguf"
    assert figures["tokenizer_check"].startswith("llama.cpp and transformers agree")
    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok("Problem: What is the sum of the squares of the integers from 1 to 50?\nSolution:")["input_ids"]
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    with torch.no_grad():
        ref = model(torch.tensor([ids])).logits[0, -1].numpy()
    got = llama_logits(tmp_path / "g270-f16.gguf", ids)
    assert got.argmax() == ref.argmax()
    assert np.abs(got - ref).max() < 0.15, np.abs(got - ref).max()  # measured 0.04 (f16 weights, logits ~30)


def test_rft_on_llama_cpp_runs_a_lora_folder_as_its_base_gguf_plus_the_adapter(tiny: Path, lora: Path, tmp_path: Path):
    from start_tui.backends.gguf import check_adapter, read_gguf
    from training.stages import _on_llama

    base, adapter = _on_llama(lora, tmp_path)
    assert (base.name, adapter and adapter.name) == ("base-f16.gguf", "adapter-f16.gguf")
    assert check_adapter(read_gguf(base), adapter).path == adapter  # made for that base: the fingerprint matches
    ids = prompt_ids(tiny)
    merged = hf_logits(tiny, ids, adapter=lora)[-1]
    assert np.abs(llama_logits(base, ids, adapter=adapter) - merged).max() < 0.05  # f16 weights
    made = (base.stat().st_mtime_ns, adapter.stat().st_mtime_ns)
    assert _on_llama(lora, tmp_path) == (base, adapter)  # exported once: the next round's stage reuses them
    assert (base.stat().st_mtime_ns, adapter.stat().st_mtime_ns) == made
    full, none = _on_llama(tiny, tmp_path)
    assert (full.name, none) == ("model-f16.gguf", None)


def test_an_exported_model_or_adapter_carries_the_prompt_it_learned_under(tiny: Path, lora: Path, tmp_path: Path):
    import shutil

    from start_tui.backends.gguf import read_gguf
    from start_tui.backends.learned import PROFILE_KEY, PROMPT_KEY
    from start_tui.backends.llama_cpp import LlamaCppBackend
    from start_tui.engine import HintLibrary
    from start_tui.options import EngineOptions, make_reasoner
    from tests.training.test_learned_under import TEMPLATE, write_traces
    from training.export import export

    # an adapter from an older run: its job names the traces it learned from, which say the prompt
    adapter = shutil.copytree(lora, tmp_path / "adapter")
    traces = write_traces(tmp_path / "d.jsonl", [("gemma3-base", TEMPLATE, "What is 3 + 4?")] * 2)
    (adapter / "job.json").write_text(json.dumps({"stage": {"data": str(traces)}}), encoding="utf-8")
    base_gguf = tmp_path / "base.gguf"
    assert export(tiny, base_gguf, "f32")["profile"] is None  # a folder nobody fine-tuned here: nothing said
    figures = export(adapter, tmp_path / "adapter.gguf", "f32", base=tiny, base_gguf=base_gguf)
    assert figures["profile"] == "gemma3-base" and figures["prompt_carried"]
    meta = read_gguf(tmp_path / "adapter.gguf").metadata
    assert meta["adapter.start_tui.profile"] == "gemma3-base" and meta["adapter.start_tui.prompt"] == TEMPLATE

    # a model folder: what its SFT stage recorded
    model = shutil.copytree(tiny, tmp_path / "model")
    other = TEMPLATE.replace("Solve it", "Answer it")
    record = {"learned_under": {PROFILE_KEY: "gemma3-base", PROMPT_KEY: other}}
    (model / "job.json").write_text(json.dumps({"stage": record}), encoding="utf-8")
    export(model, tmp_path / "model.gguf", "f32")

    library = HintLibrary.load()
    problem = "How many primes are below 30?"
    for gguf, adapter_gguf, want in [
        (base_gguf, None, None),
        (base_gguf, tmp_path / "adapter.gguf", TEMPLATE),
        (tmp_path / "model.gguf", None, other),
        (tmp_path / "model.gguf", tmp_path / "adapter.gguf", TEMPLATE),  # the adapter's, not the model's
    ]:
        backend = LlamaCppBackend(gguf, n_ctx=256, adapter=adapter_gguf)
        try:
            if want is None and backend.metadata()["general.architecture"] == "llama":
                # a tiny llama nobody trained here, with no template: its family is asked for, not guessed
                with pytest.raises(StartTuiError, match="cannot tell which family"):
                    make_reasoner(EngineOptions(), backend, None, library)  # type: ignore[arg-type]
                continue
            reasoner = make_reasoner(EngineOptions(), backend, None, library)  # type: ignore[arg-type]
            prompt = reasoner.profile.build_prompt(problem, backend.metadata())
        finally:
            backend.close()
        assert reasoner.profile.name == "gemma3-base"
        if want is None:  # a Gemma 3 with no template is the base model: its own few-shot prompt
            assert "Solve it with Python" not in prompt and "Answer it" not in prompt
        else:
            assert prompt == want.replace("{problem}", problem)
