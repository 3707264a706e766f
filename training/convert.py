"""The embedded GGUF as a trainable transformers folder, converted once and cached.

transformers reads the GGUF and dequantizes it; the GGUF's tokenizer is kept beside it (tokenizer.gguf)
so that an export writes it back exactly; the loaded model is still marked as quantized, so
Trainer would refuse it and `save_pretrained` fail: the quantization marker is removed first.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from start_tui.backends.embedded import GEMMA_270M, model_cache_dir
from start_tui.errors import StartTuiError
from training.export import TOKENIZER_SIDECAR, write_tokenizer_sidecar

EMBEDDED_CONVERSION = "gemma3-270m-hf"
"""The embedded model's trainable conversion, a folder of `cache_dir()`."""


def cache_dir() -> Path:
    return model_cache_dir()


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
    """`embedded` -> the cached conversion of the embedded GGUF; anything else must be a model folder."""
    if name == "embedded":
        from start_tui.backends.embedded import embedded_model_path

        return convert_gguf(embedded_model_path(GEMMA_270M.name), cache_dir() / EMBEDDED_CONVERSION)
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise StartTuiError(f"The base model {name!r} is not a transformers folder (no config.json) nor 'embedded'.")
    return path


def base_tokenizer(name: str) -> Any:
    """The tokenizer of a base model `base_model_dir` accepts, without converting the model: for
    "embedded", read from the GGUF itself (or from its conversion, once made)."""
    from transformers import AutoTokenizer

    from start_tui.backends.hf import _quiet_gguf_conversion

    if name != "embedded":
        return AutoTokenizer.from_pretrained(base_model_dir(name))
    converted = cache_dir() / EMBEDDED_CONVERSION
    if (converted / "config.json").is_file():
        return AutoTokenizer.from_pretrained(converted)
    from start_tui.backends.embedded import embedded_model_path

    src = embedded_model_path(GEMMA_270M.name)
    _quiet_gguf_conversion()
    try:
        return AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    except (OSError, ValueError) as exc:
        raise StartTuiError(f"transformers could not read the tokenizer of {str(src)!r} ({exc}).") from None
