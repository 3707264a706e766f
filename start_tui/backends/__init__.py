"""Backends that continue text for the engine, behind the `Backend` protocol.

- `llama` (default): a GGUF file run by llama.cpp in this process (the embedded model when none is given).
- `hf`: a local transformers causal-LM folder, CUDA + bf16 when present, CPU float32 otherwise.
- `openai`: a served model behind an OpenAI-compatible `/v1/completions` (vLLM, SGLang, llama.cpp server).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Protocol

from start_tui.backends.base import Backend, BackendError, BackendStats, SamplingParams
from start_tui.backends.embedded import DEFAULT_MODEL, EMBEDDED, Progress
from start_tui.errors import StartTuiError

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "EMBEDDED",
    "Backend",
    "BackendError",
    "BackendStats",
    "Lanes",
    "SamplingParams",
    "embedded_name",
    "model_file",
    "open_backend",
    "open_lanes",
]

BACKENDS = ("llama", "hf", "openai")


def open_backend(
    model: str | Path | None = None,
    n_ctx: int = 8192,
    seed: int = 0,
    kind: str = "llama",
    base_url: str | None = None,
    api_key_env: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    adapter: str | Path | None = None,
    flash_attn: bool = False,
    shipped_adapter: bool = False,
    tokenizer: str | Path | None = None,
    progress: Progress | None = None,
) -> Backend:
    """Open the backend `kind` on `model` (a .gguf path, a model folder, or a served model name).

    With no model, or an embedded model's name, llama runs that embedded model (assembled on first use,
    telling `progress`); on the Gemma 3 270M `shipped_adapter` applies the self-taught LoRA this package
    ships for it, unless `adapter` names another. `tokenizer` (a tokenizer folder or a
    GGUF) gives the chat template that renders the prompt, in place of the model's or the server's."""
    template = None
    if tokenizer:
        from start_tui.backends.template import read_template

        template = read_template(tokenizer)  # before a model loads: a bad path costs nothing
    backend = _open(
        model, n_ctx, seed, kind, base_url, api_key_env, device, dtype, adapter, flash_attn, shipped_adapter, progress
    )
    if template is not None:
        use_template(backend, template)
    return backend


def use_template(backend: Backend, template: dict[str, str]) -> None:
    """Take a tokenizer's template and metadata (`read_template`) as the backend's own. The BOS text a
    template writes stays the backend's: llama.cpp, transformers and a server each add the BOS their
    tokenizer wants, and a second one before the prompt would change what the model reads."""
    meta = backend.metadata()
    assert isinstance(meta, MutableMapping)  # every backend keeps its metadata in a dict
    meta.update({k: v for k, v in template.items() if k != "start_tui.bos_token"})


def _open(
    model: str | Path | None,
    n_ctx: int,
    seed: int,
    kind: str,
    base_url: str | None,
    api_key_env: str | None,
    device: str | None,
    dtype: str | None,
    adapter: str | Path | None,
    flash_attn: bool,
    shipped_adapter: bool,
    progress: Progress | None,
) -> Backend:
    if kind == "llama":
        from start_tui.backends import embedded
        from start_tui.backends.llama_cpp import LlamaCppBackend

        name = embedded_name(model)
        if name is None:
            return LlamaCppBackend(model_file(model), n_ctx=n_ctx, seed=seed, adapter=adapter, flash_attn=flash_attn)
        if adapter is None and shipped_adapter and name == embedded.GEMMA_270M.name:
            adapter = embedded.shipped_adapter_path()
        path = model_file(name, progress)
        backend = LlamaCppBackend(path, n_ctx=n_ctx, seed=seed, adapter=adapter, flash_attn=flash_attn)
        backend.describe_embedded(name)
        return backend
    if kind == "hf":
        if not model:
            raise StartTuiError("--backend hf needs --model, a transformers model folder.")
        try:
            from start_tui.backends.hf import TransformersBackend
        except ImportError:
            raise StartTuiError("--backend hf needs torch and transformers: pip install 'start-tui[hf]'.") from None
        return TransformersBackend(model, device=device, dtype=dtype, n_ctx=n_ctx, seed=seed, adapter=adapter)
    if kind == "openai":
        from start_tui.backends.openai import DEFAULT_API_KEY_ENV, OpenAIBackend

        if not base_url:
            raise StartTuiError("--backend openai needs --base-url, e.g. http://127.0.0.1:8000/v1.")
        if adapter:
            raise StartTuiError(
                "--adapter is for llama and hf; a served model's adapters are the server's (vLLM: --lora-modules)."
            )
        return OpenAIBackend(base_url, str(model) if model else None, api_key_env=api_key_env or DEFAULT_API_KEY_ENV)
    raise StartTuiError(f"There is no backend {kind!r}; choose one of {', '.join(BACKENDS)}.")


def embedded_name(model: str | Path | None) -> str | None:
    """The embedded model `model` names (None: the default), or None when it is a path: a file of that
    name beside the user wins over the name."""
    if not model:
        return DEFAULT_MODEL
    text = str(model)
    if text in EMBEDDED and not Path(text).is_file():
        return text
    return None


def model_file(model: str | Path | None, progress: Progress | None = None) -> Path:
    """The GGUF file `model` names for llama.cpp: an embedded model's (assembled on first use), or the path."""
    from start_tui.backends.embedded import embedded_model_path

    name = embedded_name(model)
    if name is not None:
        return embedded_model_path(name, progress)
    path = Path(str(model)).expanduser()
    if not path.exists() and path.suffix != ".gguf" and len(path.parts) == 1:
        raise StartTuiError(
            f"There is no model file {str(model)!r} and no embedded model of that name "
            f"({', '.join(EMBEDDED)}; start-tui models lists them)."
        )
    return path


class Lanes(Protocol):
    """K backends for K sequences that a backend decodes together; closing it frees what they hold."""

    lanes: list[Backend]

    def close(self) -> None: ...


def open_lanes(backend: Backend, k: int) -> Lanes:
    """`k` lanes on `backend`: one batched context (llama.cpp), one padded batch (transformers), or
    concurrent requests (a served model). A backend that cannot batch is refused in one sentence."""
    make = getattr(backend, "batch", None)
    if make is None:
        raise StartTuiError(f"The {type(backend).__name__} backend cannot run parallel samples.")
    lanes: Lanes = make(k)
    return lanes
