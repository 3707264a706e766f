"""Backends that continue text for the engine: llama.cpp today, behind the `Backend` protocol."""

from __future__ import annotations

from pathlib import Path

from start_tui.backends.base import Backend, BackendStats, SamplingParams

__all__ = ["Backend", "BackendStats", "SamplingParams", "open_backend"]


def open_backend(model: str | Path | None = None, n_ctx: int = 8192, seed: int = 0) -> Backend:
    """The llama.cpp backend on `model` (a .gguf path), or on the embedded model when none is given."""
    from start_tui.backends.embedded import embedded_model_path
    from start_tui.backends.llama_cpp import LlamaCppBackend

    path = Path(model) if model else embedded_model_path()
    return LlamaCppBackend(path, n_ctx=n_ctx, seed=seed)
