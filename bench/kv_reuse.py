"""Tokens evaluated by the backend over tokens in the final trace, KV reuse vs a naive re-prefill.

Runs the same greedy Hint-infer problem (at least 3 tool calls) twice on the embedded model: once
with the llama.cpp backend as shipped (continuation evaluates only new tokens), once with a backend
that forgets its KV cache before every continuation (what a naive loop that re-sends the whole text
to a cacheless engine costs). Goal for the shipped backend: <= 1.05.

    python bench/kv_reuse.py [--rounds 3]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from start_tui.backends import Backend, SamplingParams
from start_tui.backends.embedded import GEMMA_270M, embedded_model_path
from start_tui.backends.llama_cpp import LlamaCppBackend
from start_tui.backends.tokens import HeldTokens
from start_tui.engine import HintPolicy, Reasoner, RunConfig, select_profile
from start_tui.sandbox import Sandbox

PROBLEM = "What is the sum of the squares of the integers from 1 to 50?"


class NaiveBackend(LlamaCppBackend):
    """Re-evaluates the whole text at every continuation."""

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        self.llm.reset()
        self._held = HeldTokens(self.tokenize, self.piece, self.bos)
        yield from super().stream(text, params)


def run(backend: Backend, sandbox: Sandbox, rounds: int) -> dict:
    policy = HintPolicy(conjunctions=(), before_stop_rounds=rounds)
    reasoner = Reasoner(backend, sandbox, select_profile(backend.metadata()), policy, RunConfig(max_tokens=600))
    r = reasoner.start(PROBLEM)
    for _ in r.events():
        pass
    return r.trace.stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = embedded_model_path(GEMMA_270M.name)
    with Sandbox() as sandbox:
        rows = []
        for label, cls in (("KV reuse (shipped)", LlamaCppBackend), ("naive re-prefill", NaiveBackend)):
            backend = cls(path, n_ctx=4096)
            stats = run(backend, sandbox, args.rounds)
            backend.close()
            rows.append((label, stats))
    print_rows(rows)


def print_rows(rows: list[tuple[str, dict]]) -> None:
    print(f"{'backend':22s} {'tool calls':>10s} {'evaluated':>10s} {'in trace':>9s} {'ratio':>7s} {'seconds':>8s}")
    for label, s in rows:
        print(
            f"{label:22s} {s['tool_calls']:>10d} {s['tokens_evaluated']:>10d} {s['tokens_in_trace']:>9d} "
            f"{s['tokens_evaluated'] / s['tokens_in_trace']:>7.3f} {s['elapsed_s']:>8.2f}"
        )
    ratio = rows[0][1]["tokens_evaluated"] / rows[0][1]["tokens_in_trace"]
    print(f"goal <= 1.05 for the shipped backend: {'met' if ratio <= 1.05 else 'NOT met'} ({ratio:.3f})")


if __name__ == "__main__":
    main()
