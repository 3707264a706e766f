"""An embedded GGUF as a trainable transformers folder, converted once and cached.

transformers reads the GGUF and dequantizes it; the GGUF's tokenizer is kept beside it (tokenizer.gguf)
so that an export writes it back exactly; the loaded model is still marked as quantized, so
Trainer would refuse it and `save_pretrained` fail: the quantization marker is removed first.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from start_tui.backends.embedded import EMBEDDED, GEMMA_270M, EmbeddedModel, model_cache_dir
from start_tui.errors import StartTuiError
from training.export import TOKENIZER_SIDECAR, write_tokenizer_sidecar


def cache_dir() -> Path:
    return model_cache_dir()


def embedded_base(name: str) -> EmbeddedModel | None:
    """The embedded model a `base_model` names: its name (`start-tui models`), or "embedded", which
    recipes written for the tests' model use and which stays the Gemma 3 270M."""
    return GEMMA_270M if name == "embedded" else EMBEDDED.get(name)


def conversion_dir(model: EmbeddedModel) -> Path:
    """An embedded model's trainable conversion, a folder of `cache_dir()`."""
    return cache_dir() / f"{model.name}-hf"


def convert_gguf(gguf: str | Path, out: str | Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from start_tui.backends.hf import NO_HUB_KERNELS, _quiet_gguf_conversion

    src, dst = Path(gguf), Path(out)
    if (dst / "config.json").is_file() and any(dst.glob("*.safetensors")):
        if not (dst / TOKENIZER_SIDECAR).is_file():  # a conversion made before exports existed
            write_tokenizer_sidecar(src, dst)
        return dst
    _quiet_gguf_conversion()
    try:
        tokenizer = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
        model = AutoModelForCausalLM.from_pretrained(
            src.parent, gguf_file=src.name, dtype=torch.float32, **NO_HUB_KERNELS
        )
    except (OSError, ValueError) as exc:
        raise StartTuiError(f"transformers could not read {str(src)!r} ({str(exc).splitlines()[0]}).") from None
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    tokenizer.padding_side = "right"
    tmp = dst.with_name(dst.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)  # left by a conversion that was killed
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    write_tokenizer_sidecar(src, tmp)  # the GGUF's own tokenizer, for `start-tui train export`
    shutil.rmtree(dst, ignore_errors=True)
    tmp.replace(dst)
    return dst


def base_model_dir(name: str) -> Path:
    """An embedded model's name (or "embedded") -> its cached conversion; anything else must be a model folder."""
    model = embedded_base(name)
    if model is not None:
        from start_tui.backends.embedded import embedded_model_path

        return convert_gguf(embedded_model_path(model.name), conversion_dir(model))
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise StartTuiError(
            f"The base model {name!r} is neither a transformers folder (no config.json) nor an embedded model "
            f"({', '.join(EMBEDDED)}, or 'embedded' for {GEMMA_270M.name})."
        )
    return path


def base_tokenizer(name: str) -> Any:
    """The tokenizer of a base model `base_model_dir` accepts, without converting the model: for an
    embedded model, read from the GGUF itself (or from its conversion, once made)."""
    from transformers import AutoTokenizer

    from start_tui.backends.hf import _quiet_gguf_conversion

    model = embedded_base(name)
    if model is None:
        return AutoTokenizer.from_pretrained(base_model_dir(name))
    converted = conversion_dir(model)
    if (converted / "config.json").is_file():
        return AutoTokenizer.from_pretrained(converted)
    from start_tui.backends.embedded import embedded_model_path

    src = embedded_model_path(model.name)
    _quiet_gguf_conversion()
    try:
        return AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    except (OSError, ValueError) as exc:
        raise StartTuiError(f"transformers could not read the tokenizer of {str(src)!r} ({exc}).") from None
