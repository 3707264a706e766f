"""transformers backend: tokens evaluated over tokens in the final trace, kept cache vs a naive re-prefill.

Runs the same greedy Hint-infer problem (several tool calls) on Gemma 3 270M loaded by transformers
from the embedded GGUF (dequantized, CPU float32 here; CUDA bf16 where present): once with the
backend as shipped (past_key_values kept, only tokens past the common prefix fed), once with a
backend that drops its cache before every continuation. Goal for the shipped backend: <= 1.05.

    python bench/hf_reuse.py [--rounds 3] [--model DIR_OR_GGUF]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from start_tui.backends import SamplingParams
from start_tui.backends.embedded import GEMMA_270M, embedded_model_path
from start_tui.backends.hf import TransformersBackend
from start_tui.sandbox import Sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kv_reuse import print_rows, run


class NaiveBackend(TransformersBackend):
    """Feeds the whole text again at every continuation."""

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        self._cache, self._held = None, []
        yield from super().stream(text, params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", help="a transformers folder or .gguf file (default: the embedded GGUF)")
    args = parser.parse_args()
    path = args.model or embedded_model_path(GEMMA_270M.name)
    rows = []
    with Sandbox() as sandbox:
        shipped = TransformersBackend(path)
        naive = NaiveBackend(path)
        naive.model = shipped.model  # one copy of the weights
        for label, backend in (("kept cache (shipped)", shipped), ("naive re-prefill", naive)):
            rows.append((label, run(backend, sandbox, args.rounds)))
    print(f"model {shipped.name} on {shipped.device}, {shipped.model.dtype}")
    print_rows(rows)


if __name__ == "__main__":
    main()
