"""Engine decode throughput over raw llama-cpp-python generation on the same prompt (goal >= 0.95).

Both sides generate the same number of greedy tokens from the same prompt on one model (the embedded
default, or `--model`: an embedded model's name or a GGUF path),
from an empty KV cache, in alternating pairs so that machine noise hits both alike; the figure is
the median of the per-pair ratios, by wall time and by process CPU time. The prompt is a plain
text continuation, so that no code block (and no inserted output) makes the two workloads differ;
hints and stop markers are off. The engine keeps everything else of its hot path: the scanner,
the events, the trace fold and the JSONL journal.

    python bench/decode_speed.py [--model NAME|PATH] [--tokens 256] [--reps 8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from statistics import median

from start_tui.backends import DEFAULT_MODEL, SamplingParams, model_file
from start_tui.backends.llama_cpp import LlamaCppBackend
from start_tui.engine import HintPolicy, Reasoner, RunConfig, select_profile
from start_tui.sandbox import Sandbox

PROBLEM = "The history of the Roman Empire begins with"


def forget(backend: LlamaCppBackend) -> None:
    backend.llm.reset()
    held = backend._held
    held.tokens, held._ends, held._bytes = [], [], b""


def engine_run(reasoner: Reasoner, trace_dir: Path) -> tuple[int, float, float]:
    forget(reasoner.backend)  # type: ignore[arg-type]
    t0, c0 = time.perf_counter(), time.process_time()
    run = reasoner.start(PROBLEM, trace_path=trace_dir / "t.jsonl")
    for _ in run.events():
        pass
    assert not [s for s in run.trace.spans if s.kind == "output"], "the workloads differ: code ran"
    return run.trace.stats["tokens_generated"], time.perf_counter() - t0, time.process_time() - c0


def raw_run(backend: LlamaCppBackend, prompt: str, n: int) -> tuple[int, float, float]:
    forget(backend)
    llm = backend.llm
    t0, c0 = time.perf_counter(), time.process_time()
    tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    count = 0
    for tok in llm.generate(tokens, top_k=1, top_p=0.95, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True):
        if backend._is_eog(tok):
            break
        llm.detokenize([tok], special=True)
        count += 1
        if count >= n:
            break
    return count, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="an embedded model's name or a GGUF path")
    args = parser.parse_args()
    backend = LlamaCppBackend(model_file(args.model), n_ctx=4096)
    profile = replace(select_profile(backend.metadata()), few_shot="{problem}", stop=(), think_end=())
    # no loop stop: the raw side has none, and a small model continuing plain text may well loop
    config = RunConfig(
        max_tokens=args.tokens, sampling=SamplingParams(temperature=0.0), execute_code=False, loop_chars=0
    )
    wall_ratios, cpu_ratios, engine_rates, raw_rates = [], [], [], []
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        reasoner = Reasoner(backend, sandbox, profile, HintPolicy(enabled=False, conjunctions=()), config)
        prompt = profile.build_prompt(PROBLEM, backend.metadata())
        raw_run(backend, prompt, 16)  # warm-up
        for i in range(args.reps):
            if i % 2:
                n_raw, w_raw, c_raw = raw_run(backend, prompt, args.tokens)
                n, w, c = engine_run(reasoner, Path(tmp))
            else:
                n, w, c = engine_run(reasoner, Path(tmp))
                n_raw, w_raw, c_raw = raw_run(backend, prompt, args.tokens)
            assert n == n_raw, (n, n_raw)
            engine_rates.append(n / w)
            raw_rates.append(n_raw / w_raw)
            wall_ratios.append((n / w) / (n_raw / w_raw))
            cpu_ratios.append((n / c) / (n_raw / c_raw))
    print(f"model: {backend.name}")
    print(f"tokens per run: {n}, pairs: {args.reps} (order alternating), prefill included on both sides")
    print(f"{'path':28s} {'median tok/s':>12s} {'min':>8s} {'max':>8s}")
    print(
        f"{'engine (Run.events)':28s} {median(engine_rates):>12.1f} {min(engine_rates):>8.1f} {max(engine_rates):>8.1f}"
    )
    print(f"{'raw llama-cpp-python':28s} {median(raw_rates):>12.1f} {min(raw_rates):>8.1f} {max(raw_rates):>8.1f}")
    w, c = median(wall_ratios), median(cpu_ratios)
    print(f"engine / raw, median of paired ratios: wall {w:.3f}, CPU time {c:.3f}")
    print(f"goal >= 0.95: {'met' if w >= 0.95 else 'NOT met'} (wall)")
    backend.close()


if __name__ == "__main__":
    main()
