"""N Hint-infer problems against a llama.cpp server at concurrency 1, 2, 4, next to sequential local runs.

Starts llama-cpp-python's OpenAI-compatible server on a loopback port with the embedded model and
solves the same N problems with `start_tui.batch.solve_many` at each concurrency, then with the
in-process llama.cpp backend one after another. Prints wall time, problems/s and tokens/s.
(llama-cpp-python's server decodes one request at a time; concurrency overlaps the sandbox and
the HTTP round trips with decoding. A vLLM or SGLang server batches requests and scales further.)

    python bench/served.py [--problems 8] [--max-tokens 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from start_tui.backends.embedded import GEMMA_270M, embedded_model_path
from start_tui.batch import solve_many
from start_tui.benchmarks import Problem
from start_tui.options import EngineOptions
from tests.servers import LlamaServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args()
    problems = [
        Problem(str(n), "bench", f"What is the sum of the squares of the integers from 1 to {n}?", "")
        for n in range(20, 20 + args.problems)
    ]
    common = dict(max_tokens=args.max_tokens, rounds=1, conjunctions=(), n_ctx=4096)
    rows = []
    with LlamaServer(embedded_model_path(GEMMA_270M.name)) as server:
        for c in (1, 2, 4):
            opts = EngineOptions(backend="openai", base_url=server.url, **common)  # type: ignore[arg-type]
            t0 = time.perf_counter()
            out = solve_many(problems, opts, concurrency=c)
            rows.append((f"server, concurrency {c}", time.perf_counter() - t0, out))
    t0 = time.perf_counter()
    out = solve_many(problems, EngineOptions(**common), concurrency=1)  # type: ignore[arg-type]
    rows.append(("in-process, sequential", time.perf_counter() - t0, out))
    base = rows[0][1]
    print(f"{args.problems} problems, {args.max_tokens} tokens at most each, 1 hint round")
    head = ("seconds", "problems/s", "tokens", "tok/s", "vs c=1", "errors")
    print(f"{'setting':26s} " + " ".join(f"{h:>{w}s}" for h, w in zip(head, (8, 10, 7, 7, 7, 6), strict=True)))
    for label, secs, outs in rows:
        tokens = sum(o.trace.stats.get("tokens_generated", 0) for o in outs if o.trace)
        errors = sum(1 for o in outs if o.error)
        print(
            f"{label:26s} {secs:>8.2f} {len(outs) / secs:>10.3f} {tokens:>7d} {tokens / secs:>7.1f} "
            f"{base / secs:>7.2f} {errors:>6d}"
        )


if __name__ == "__main__":
    main()
