"""`start-tui train export`: a trained folder as a GGUF model, a LoRA adapter as a GGUF LoRA adapter.

What `start-tui train` makes then runs in the app on llama.cpp (`--model out.gguf`, `--adapter out.gguf`).
The tensors are renamed to llama.cpp's names (gguf's own name map) and reshaped as llama.cpp's converter
does: Llama's query and key rows are permuted from transformers' rotate-half order, Gemma's norm weights
are stored as 1 + w. f32, f16 and bf16 are written directly; q8_0 and the k-quants are made from an f32
file by llama.cpp's own quantizer.

The tokenizer: a folder converted from a GGUF (the embedded model, `training/convert.py`) carries that
GGUF's tokenizer in `tokenizer.gguf`, which is copied over key for key; any other folder has its
transformers tokenizer written out (byte-level BPE from tokenizer.json, or SentencePiece from
tokenizer.model), with its chat template. Either way llama.cpp's tokenization is compared with
transformers' on a few strings before the export is called done.

An adapter records the fingerprint of the model it was trained over (architecture, tensor shapes,
vocabulary); `start_tui.backends.gguf.check_adapter` refuses, in one sentence, to put it on another model.
"""

from __future__ import annotations

import ctypes
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from start_tui.backends.gguf import BASE_NAME_KEY, FINGERPRINT_KEY, read_gguf
from start_tui.backends.learned import ADAPTER_PREFIX, PROFILE_KEY, PROMPT_KEY, job_stage, recorded_in
from start_tui.errors import StartTuiError

TOKENIZER_SIDECAR = "tokenizer.gguf"
"""A vocabulary-only GGUF next to a converted model: the source GGUF's tokenizer, kept verbatim."""


DIRECT_TYPES = ("f32", "f16", "bf16")
QUANT_TYPES = {  # llama.cpp's LLAMA_FTYPE_MOSTLY_*
    "q8_0": 7, "q6_k": 18, "q5_k_m": 17, "q5_k_s": 16, "q4_k_m": 15, "q4_k_s": 14,
    "q3_k_m": 12, "q3_k_l": 13, "q3_k_s": 11, "q2_k": 10, "q5_0": 8, "q4_0": 2,
}  # fmt: skip
TYPES = (*DIRECT_TYPES, *QUANT_TYPES)

# transformers model_type -> (gguf architecture, Llama-style q/k permutation, Gemma norm shift)
ARCHITECTURES: dict[str, tuple[str, bool, float]] = {
    "llama": ("llama", True, 0.0),
    "mistral": ("llama", True, 0.0),
    "qwen2": ("qwen2", False, 0.0),
    "qwen3": ("qwen3", False, 0.0),
    "gemma3_text": ("gemma3", False, 1.0),
}


def _config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    try:
        cfg: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise StartTuiError(f"{str(folder)!r} is not a transformers model folder (no config.json).") from None
    except json.JSONDecodeError as exc:
        raise StartTuiError(f"{str(path)!r} is not valid JSON ({exc.msg}, line {exc.lineno}).") from None
    return cfg.get("text_config", cfg) if cfg.get("model_type") == "gemma3" else cfg


def _architecture(cfg: dict[str, Any], folder: Path) -> tuple[str, bool, float]:
    kind = cfg.get("model_type", "")
    if kind not in ARCHITECTURES:
        raise StartTuiError(
            f"export writes {', '.join(sorted(ARCHITECTURES))} models, and {str(folder)!r} is {kind or 'unknown'!r}; "
            "llama.cpp's convert_hf_to_gguf.py covers the others."
        )
    return ARCHITECTURES[kind]


GEMMA3_SLIDING_THETA = 10000.0
"""llama.cpp's RoPE base for Gemma 3's sliding-window layers: fixed, not read from the file."""


def _rope_theta(cfg: dict[str, Any]) -> float:
    """The RoPE base; only unscaled or linearly scaled RoPE is written, and a sliding-window base other
    than the one llama.cpp fixes is refused."""
    params = cfg.get("rope_parameters") or {}
    full = params.get("full_attention", params) if isinstance(params, dict) else {}
    local = params.get("sliding_attention") if isinstance(params, dict) else None
    scaling = cfg.get("rope_scaling") or {}
    kind = full.get("rope_type") or scaling.get("rope_type") or scaling.get("type") or "default"
    if kind not in ("default", "linear"):
        raise StartTuiError(
            f"export does not write RoPE scaling of type {kind!r}; use llama.cpp's convert_hf_to_gguf.py."
        )
    local_theta = float(local["rope_theta"]) if local else cfg.get("rope_local_base_freq")
    if local_theta is not None and local_theta != GEMMA3_SLIDING_THETA:
        raise StartTuiError(
            f"llama.cpp fixes the sliding-window RoPE base at {GEMMA3_SLIDING_THETA:g} and this model uses "
            f"{local_theta:g}: the GGUF would compute another model."
        )
    return float(full.get("rope_theta", cfg.get("rope_theta", 10000.0)))


def _permute(w: Any, n_head: int) -> Any:
    """transformers' rotate-half rows of a query or key projection -> llama.cpp's interleaved rows."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _weights(folder: Path) -> Iterator[tuple[str, Any]]:
    from safetensors import safe_open

    files = sorted(folder.glob("*.safetensors"))
    files = [f for f in files if not f.name.startswith("adapter_")]
    if not files:
        raise StartTuiError(f"{str(folder)!r} has no model weights (*.safetensors).")
    for file in files:
        with safe_open(str(file), framework="pt") as f:
            for name in f.keys():  # noqa: SIM118  (safe_open is not a mapping)
                yield name, f.get_tensor(name).float()


def _name_map(arch: str, n_blocks: int) -> Any:
    import gguf

    return gguf.get_tensor_name_map(next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch), n_blocks)


def _gguf_name(tmap: Any, name: str) -> str | None:
    for prefix in ("model.language_model.", "language_model.model."):
        if name.startswith(prefix):
            name = "model." + name[len(prefix) :]
    return tmap.get_name(name, try_suffixes=(".weight", ".bias"))


def _write_hparams(w: Any, arch: str, cfg: dict[str, Any], n_vocab: int) -> None:
    hidden, n_head = cfg["hidden_size"], cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_head
    head_dim = cfg.get("head_dim") or hidden // n_head
    theta = _rope_theta(cfg)
    w.add_context_length(int(cfg.get("max_position_embeddings", 4096)))
    w.add_embedding_length(hidden)
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-6)))
    w.add_rope_freq_base(theta)
    w.add_vocab_size(n_vocab)
    if arch == "gemma3":
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
        if cfg.get("sliding_window"):
            w.add_sliding_window(int(cfg["sliding_window"]))
        if cfg.get("layer_types"):
            w.add_sliding_window_pattern([t == "sliding_attention" for t in cfg["layer_types"]])
        scaling = cfg.get("rope_scaling") or {}
        if scaling.get("rope_type", scaling.get("type")) == "linear":
            import gguf

            w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            w.add_rope_scaling_factor(float(scaling["factor"]))
    else:
        w.add_rope_dimension_count(head_dim)
        if head_dim != hidden // n_head:
            w.add_key_length(head_dim)
            w.add_value_length(head_dim)


# ---- the tokenizer -------------------------------------------------------------------------------


def write_tokenizer_sidecar(source_gguf: str | Path, folder: str | Path) -> Path:
    """Keep a GGUF's tokenizer (every `tokenizer.*` key) in `folder/tokenizer.gguf`, for a later export."""
    import gguf

    reader = gguf.GGUFReader(str(source_gguf))
    out = Path(folder) / TOKENIZER_SIDECAR
    tmp = out.with_name(out.name + ".partial")
    w = gguf.GGUFWriter(str(tmp), str(reader.fields["general.architecture"].contents()))
    w.add_type("vocab")
    _copy_fields(reader, w, prefix="tokenizer.")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()
    tmp.replace(out)
    return out


def _copy_fields(reader: Any, w: Any, *, prefix: str) -> int:
    import gguf

    n = 0
    for key, field in reader.fields.items():
        if not key.startswith(prefix):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, field.contents(), kind, sub_type=sub)
        n += 1
    return n


def _write_tokenizer(w: Any, folder: Path, n_vocab: int) -> str:
    """Write the tokenizer keys; returns where they came from, for the summary."""
    import gguf

    sidecar = folder / TOKENIZER_SIDECAR
    if sidecar.is_file():
        _copy_fields(gguf.GGUFReader(str(sidecar)), w, prefix="tokenizer.")
        return f"copied from {TOKENIZER_SIDECAR}"
    if (folder / "tokenizer.model").is_file():
        vocab: Any = gguf.vocab.SentencePieceVocab(folder)
        kind = "llama"
    elif (folder / "tokenizer.json").is_file():
        model = json.loads((folder / "tokenizer.json").read_text()).get("model", {})
        if model.get("type") != "BPE":
            raise StartTuiError(
                f"export writes byte-level BPE or SentencePiece tokenizers, and {str(folder)!r} has a "
                f"{model.get('type')!r} one without tokenizer.model."
            )
        if model.get("byte_fallback"):
            vocab, kind = gguf.vocab.LlamaHfVocab(folder), "llama"
        else:
            return _write_bpe(w, folder, n_vocab)
    else:
        raise StartTuiError(
            f"{str(folder)!r} has no tokenizer (tokenizer.json, tokenizer.model or {TOKENIZER_SIDECAR})."
        )
    tokens, scores, types = [], [], []
    for text, score, toktype in vocab.all_tokens():
        tokens.append(text)
        scores.append(score)
        types.append(toktype)
    while len(tokens) < n_vocab:
        tokens.append(f"[PAD{len(tokens)}]".encode())
        scores.append(-1000.0)
        types.append(gguf.TokenType.UNUSED)
    w.add_tokenizer_model(kind)
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    gguf.SpecialVocab(folder, n_vocab=len(tokens)).add_to_gguf(w, quiet=True)
    return "SentencePiece from the folder"


def _bpe_pre_tokenizer(folder: Path) -> str:
    """llama.cpp's name for the folder's pre-tokenizer: GPT-2's plain byte-level regex, Qwen's or Llama 3's."""
    spec = json.loads((folder / "tokenizer.json").read_text()).get("pre_tokenizer") or {}
    kind = _config(folder).get("model_type", "")
    if kind in ("qwen2", "qwen3"):
        return "qwen2"
    if spec.get("type") == "ByteLevel" and spec.get("use_regex", True):
        return "gpt-2"
    patterns = json.dumps(spec)
    if "\\p{N}{1,3}" in patterns:
        return "llama-bpe"
    return "default"


def _write_bpe(w: Any, folder: Path, n_vocab: int) -> str:
    import gguf
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    reverse = {i: t for t, i in tok.get_vocab().items()}
    added = tok.added_tokens_decoder
    tokens, types = [], []
    for i in range(max(n_vocab, len(reverse))):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.NORMAL)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(_bpe_pre_tokenizer(folder))
    w.add_token_list(tokens)
    w.add_token_types(types)
    gguf.SpecialVocab(folder, load_merges=True, n_vocab=len(tokens)).add_to_gguf(w, quiet=True)
    return "byte-level BPE from tokenizer.json"


# ---- models -------------------------------------------------------------------------------------


def learned_under(folder: Path) -> dict[str, str]:
    """The profile and prompt a folder that `start-tui train` fine-tuned learned under: what its SFT stage
    recorded, or for a folder from an older version the traces its job names, when they are still there."""
    from training.dataset import learned_prompt

    stage = job_stage(folder)
    recorded = recorded_in(stage)
    if recorded is not None:
        return recorded
    data = (stage or {}).get("data")
    if isinstance(data, str) and Path(data).is_file():
        try:
            return learned_prompt(data)
        except StartTuiError:
            return {}
    return {}


def _write_learned(w: Any, folder: Path, prefix: str) -> dict[str, Any]:
    """Write what `folder` learned under into the GGUF, so that it runs as it was trained with no flags."""
    learned = learned_under(folder)
    for key, value in learned.items():
        w.add_string(prefix + key, value)
    return {"profile": learned.get(PROFILE_KEY), "prompt_carried": PROMPT_KEY in learned}


def export_model(
    folder: str | Path, out: str | Path, qtype: str = "f16", *, threads: int | None = None
) -> dict[str, Any]:
    """Write the transformers model in `folder` as one GGUF file of type `qtype`."""
    import gguf
    import numpy as np

    src, dst = Path(folder), Path(out)
    if qtype not in TYPES:
        raise StartTuiError(f"--type must be one of {', '.join(TYPES)}, not {qtype!r}.")
    cfg = _config(src)
    arch, permute, norm_shift = _architecture(cfg, src)
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    if arch == "gemma3" and cfg.get("query_pre_attn_scalar", head_dim) != head_dim:
        raise StartTuiError(
            f"llama.cpp scales Gemma 3's queries by 1/sqrt(head_dim), and {str(src)!r} has query_pre_attn_scalar = "
            f"{cfg['query_pre_attn_scalar']} with head_dim = {head_dim}: the GGUF would compute another model."
        )
    n_head = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_head
    n_blocks = cfg["num_hidden_layers"]
    tmap = _name_map(arch, n_blocks)
    direct = qtype if qtype in DIRECT_TYPES else "f32"
    dst.parent.mkdir(parents=True, exist_ok=True)
    first = dst.with_name(dst.name + (".f32.partial" if direct != qtype else ".partial"))
    w = gguf.GGUFWriter(str(first), arch)
    w.add_type("model")
    w.add_name(cfg.get("_model_name_or_path") or src.name)
    ftype = {
        "f32": gguf.LlamaFileType.ALL_F32,
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "bf16": gguf.LlamaFileType.MOSTLY_BF16,
    }[direct]
    w.add_file_type(int(ftype))
    tensors = 0
    vocab_rows = 0
    tied = bool(cfg.get("tie_word_embeddings", arch == "gemma3"))
    for name, t in _weights(src):
        if name == "lm_head.weight" and tied:
            continue
        target = _gguf_name(tmap, name)
        if target is None:
            if name.endswith("rotary_emb.inv_freq"):
                continue
            raise StartTuiError(f"export does not know where the tensor {name!r} of {str(src)!r} goes in a GGUF.")
        if permute and name.endswith("q_proj.weight"):
            t = _permute(t, n_head)
        elif permute and name.endswith("k_proj.weight"):
            t = _permute(t, n_kv)
        if norm_shift and name.endswith("norm.weight"):
            t = t + norm_shift
        if target == "token_embd.weight":
            vocab_rows = t.shape[0]
        data = t.numpy()
        if data.ndim == 1 or direct == "f32":
            w.add_tensor(target, data.astype(np.float32))
        elif direct == "f16":
            w.add_tensor(target, data.astype(np.float16))
        else:
            bf16 = gguf.quants.quantize(data.astype(np.float32), gguf.GGMLQuantizationType.BF16)
            w.add_tensor(target, bf16, raw_shape=bf16.shape, raw_dtype=gguf.GGMLQuantizationType.BF16)
        tensors += 1
    n_vocab = int(cfg.get("vocab_size") or vocab_rows)
    _write_hparams(w, arch, cfg, n_vocab)
    tokenizer = _write_tokenizer(w, src, n_vocab)
    learned = _write_learned(w, src, "")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    if direct != qtype:
        _quantize(first, dst, qtype, threads)
        first.unlink()
    else:
        first.replace(dst)
    return {"path": str(dst), "type": qtype, "architecture": arch, "tensors": tensors, "tokenizer": tokenizer,
            "bytes": dst.stat().st_size, **learned}  # fmt: skip


def _quantize(src: Path, dst: Path, qtype: str, threads: int | None) -> None:
    import llama_cpp

    from start_tui.backends.llama_cpp import _silence_llama_logs

    _silence_llama_logs()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[qtype]
    params.nthread = threads or max(1, os.cpu_count() or 1)
    partial = dst.with_name(dst.name + ".partial")
    if llama_cpp.llama_model_quantize(str(src).encode(), str(partial).encode(), ctypes.byref(params)) != 0:
        partial.unlink(missing_ok=True)
        raise StartTuiError(f"llama.cpp could not quantize {str(src)!r} to {qtype}.")
    partial.replace(dst)


# ---- adapters -----------------------------------------------------------------------------------


def _embedded_gguf_if_base(base_dir: Path) -> Path | None:
    """An embedded model's GGUF when `base_dir` is its cached conversion (the adapter then runs over it)."""
    from start_tui.backends.embedded import EMBEDDED, embedded_model_path
    from training.convert import conversion_dir

    if base_dir.is_dir():
        for model in EMBEDDED.values():
            if base_dir.resolve() == conversion_dir(model).resolve():
                return embedded_model_path(model.name)
    return None


def export_adapter(
    folder: str | Path, out: str | Path, *, base: str | Path | None = None, base_gguf: str | Path | None = None,
    qtype: str = "f32",
) -> dict[str, Any]:  # fmt: skip
    """Write a peft LoRA adapter as a llama.cpp LoRA adapter (GGUF), fingerprinted with its base model."""
    import gguf
    import numpy as np
    from safetensors.torch import load_file

    src, dst = Path(folder), Path(out)
    if qtype not in ("f32", "f16"):
        raise StartTuiError(f"an adapter is written as f32 or f16, not {qtype!r}.")
    try:
        lcfg = json.loads((src / "adapter_config.json").read_text())
    except FileNotFoundError:
        raise StartTuiError(f"{str(src)!r} is not a LoRA adapter folder (no adapter_config.json).") from None
    if lcfg.get("peft_type", "LORA") != "LORA" or lcfg.get("use_dora") or lcfg.get("use_rslora"):
        raise StartTuiError(f"{str(src)!r} is not a plain LoRA adapter (DoRA, rsLoRA and others are not written).")
    base_dir = Path(base or lcfg.get("base_model_name_or_path") or "")
    if base_gguf is None:
        base_gguf = _embedded_gguf_if_base(base_dir)
    cfg = _config(base_dir)
    arch, permute, _ = _architecture(cfg, base_dir)
    n_head = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_head
    tmap = gguf.get_tensor_name_map(
        next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch), cfg["num_hidden_layers"]
    )
    weights_file = src / "adapter_model.safetensors"
    if not weights_file.is_file():
        raise StartTuiError(f"{str(src)!r} has no adapter_model.safetensors.")
    pairs: dict[str, dict[str, Any]] = {}
    for name, t in load_file(str(weights_file)).items():
        plain = name.replace("base_model.model.", "", 1)
        for part in ("lora_A", "lora_B"):
            marker = f".{part}.weight"
            if marker in plain:
                pairs.setdefault(plain.replace(marker, ".weight"), {})[part] = t.float()
                break
        else:
            raise StartTuiError(f"the adapter tensor {name!r} is not a LoRA A or B matrix; export writes LoRA only.")
    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = dst.with_name(dst.name + ".partial")
    w = gguf.GGUFWriter(str(partial), arch)
    w.add_type(gguf.GGUFType.ADAPTER)
    w.add_string(gguf.Keys.Adapter.TYPE, "lora")
    w.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(lcfg["lora_alpha"]))
    w.add_name(f"LoRA r{lcfg.get('r')} over {cfg.get('_model_name_or_path') or base_dir.name}")
    w.add_string(BASE_NAME_KEY, str(cfg.get("_model_name_or_path") or base_dir.name))
    if base_gguf is not None:
        w.add_string(FINGERPRINT_KEY, read_gguf(base_gguf).fingerprint())
    learned = _write_learned(w, src, ADAPTER_PREFIX)
    dtype = np.float32 if qtype == "f32" else np.float16
    for name, ab in sorted(pairs.items()):
        if set(ab) != {"lora_A", "lora_B"}:
            raise StartTuiError(f"the adapter has {next(iter(ab))} but not its pair for {name!r}.")
        target = _gguf_name(tmap, name)
        if target is None:
            raise StartTuiError(f"export does not know where the adapted layer {name!r} goes in a GGUF.")
        a, b = ab["lora_A"], ab["lora_B"]
        if permute and name.endswith("q_proj.weight"):
            b = _permute(b, n_head)  # the rows of B are the projection's output rows
        elif permute and name.endswith("k_proj.weight"):
            b = _permute(b, n_kv)
        w.add_tensor(target + ".lora_a", a.numpy().astype(dtype))
        w.add_tensor(target + ".lora_b", b.numpy().astype(dtype))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    partial.replace(dst)
    return {"path": str(dst), "type": qtype, "architecture": arch, "layers": len(pairs), "rank": lcfg.get("r"),
            "alpha": lcfg.get("lora_alpha"), "bytes": dst.stat().st_size,
            "fingerprinted": base_gguf is not None, **learned}  # fmt: skip


def export(folder: str | Path, out: str | Path | None, qtype: str, **kw: Any) -> dict[str, Any]:
    """A model folder -> a model GGUF; an adapter folder -> an adapter GGUF."""
    src = Path(folder)
    if not src.is_dir():
        raise StartTuiError(f"{str(src)!r} is not a folder made by start-tui train (or any transformers folder).")
    if (src / "adapter_config.json").is_file():
        target = Path(out) if out else src.with_name(f"{src.name}-lora-{qtype}.gguf")
        return export_adapter(src, target, qtype=qtype, **kw)
    target = Path(out) if out else src.with_name(f"{src.name}-{qtype}.gguf")
    figures = export_model(src, target, qtype, threads=kw.get("threads"))
    figures["tokenizer_check"] = tokenizer_check(target, src)
    return figures


CHECK_STRINGS = (
    "What is the sum of the squares of the integers from 1 to 50?",
    "```python\nprint(sum(i**2 for i in range(1, 51)))\n```\n```output\n42925\n```",
    "  Two  spaces, tabs\tand\nnew lines; digits 12345 and 3.14159, émigré naïve 数学 🙂",
    "Wait, maybe using Python here is a good idea. \\boxed{\\frac{3}{4}}",
)


def tokenizer_check(gguf_path: str | Path, folder: str | Path) -> str:
    """Do llama.cpp (reading the exported GGUF) and transformers (reading the folder) cut text the same way?"""
    import llama_cpp
    from transformers import AutoTokenizer

    from start_tui.backends.llama_cpp import _silence_llama_logs

    _silence_llama_logs()
    tok = AutoTokenizer.from_pretrained(folder)
    llm = llama_cpp.Llama(str(gguf_path), vocab_only=True, verbose=False)
    try:
        differ = [
            s for s in CHECK_STRINGS
            if llm.tokenize(s.encode(), add_bos=False, special=True) != tok(s, add_special_tokens=False)["input_ids"]
        ]  # fmt: skip
    finally:
        llm.close()
    if differ:
        return f"llama.cpp and transformers tokenize {len(differ)} of {len(CHECK_STRINGS)} check strings differently"
    return f"llama.cpp and transformers agree on {len(CHECK_STRINGS)} check strings"
