"""Parallel samples: K hint-diverse samples decoded together, against K sequential runs and the bare loop.

For each K (default 1, 2, 4, 8), on the embedded model with the same threads and the same max
tokens per sample, side by side in one run:

- bare: the limit. One `llama_decode` of K tokens per step (one per sequence), greedy argmax,
  `--max-tokens` steps, the prompt evaluated once and copied to every sequence beforehand; the loop
  runs on the thread that makes every model call of the process (`start_tui.backends.compute`).
- batched: `start-tui solve --samples K` as shipped: K hint-diverse samples (samples after the
  first at the profile's temperature and top-p), hints, tool calls in the sandbox, all of it
  timed from the start of the set to the end of its last sample.
- replay: the batched run's own model work (every call it made, with the insertions of hints and
  code outputs, the cut-backs and the prefix copies, recorded by `StepProfile(ops=[])`) done again by
  the bare loop: the model's time for exactly that work. bare / replay prices the insertions
  themselves; batched / replay is what the scheduler, sampling, hints and the sandbox cost on top.
- sequential: the same K samples one after another on the single-sequence backend.

In every mode the shared prompt is decoded before the clock starts (the bare loop copies it to every
sequence, the batch holds it once, the single sequence keeps it in its cache), so the modes compare
what follows it: generation, sampling, hints and tool calls with the insertions they bring.
Aggregate tokens/s is generated tokens over wall seconds (replay: the batched run's generated
tokens over the replay's seconds). Goal: batched >= 0.9x bare at K = 4 and K = 8. The machine's
speed drifts over minutes, so each K runs `--repeats` rounds of the modes back to back and a ratio
is taken within a round; the figures are the rounds' median with their range. The last line is one
JSON object with the figures and ratios.

    python bench/parallel.py [--ks 1,2,4,8] [--max-tokens 128] [--threads 2] [--repeats 3] [--flash-attn]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import time

import numpy as np

from start_tui.backends import SamplingParams
from start_tui.backends.batching import StepProfile
from start_tui.backends.compute import compute
from start_tui.backends.embedded import GEMMA_270M, embedded_model_path
from start_tui.backends.llama_cpp import LlamaCppBackend
from start_tui.engine import HintPolicy, Reasoner, RunConfig, select_profile
from start_tui.engine.samples import SampleSet, derive_samples
from start_tui.sandbox import Sandbox

PROBLEM = "What is the sum of the squares of the integers from 1 to 50?"


def bare(backend: LlamaCppBackend, prompt: list[int], k: int, steps: int) -> dict:
    """Greedy decoding of k copies of a prompt, one llama_decode of k tokens per step, the whole loop on
    the process's compute thread (where the backends make their model calls: see `compute`)."""
    return compute.call(bare_loop, backend, prompt, k, steps)


def bare_context(backend: LlamaCppBackend, k: int, n_ctx: int, n_batch: int) -> tuple:
    """A context of k sequences with the backend's own settings (as LlamaBatch makes it): (ctx, its
    memory, a llama_batch of n_batch tokens, the logits of a row as an array)."""
    import llama_cpp as L

    params = L.llama_context_default_params()
    for name, _ in params._fields_:
        setattr(params, name, getattr(backend.llm.context_params, name))
    params.n_ctx = n_ctx
    params.n_batch = params.n_ubatch = n_batch
    params.n_seq_max = k
    params.kv_unified = True
    params.n_threads = params.n_threads_batch = backend.n_threads
    params.no_perf = True
    ctx = L.llama_init_from_model(backend.llm._model.model, params)
    n_vocab = L.llama_vocab_n_tokens(backend.llm._model.vocab)

    def logits(row: int) -> np.ndarray:
        ptr = ctypes.cast(L.llama_get_logits_ith(ctx, row), ctypes.POINTER(ctypes.c_float))
        return np.ctypeslib.as_array(ptr, shape=(n_vocab,))

    return ctx, L.llama_get_memory(ctx), L.llama_batch_init(n_batch, 0, 1), logits


def bare_loop(backend: LlamaCppBackend, prompt: list[int], k: int, steps: int) -> dict:
    import llama_cpp as L

    ctx, mem, batch, logits = bare_context(backend, k, (len(prompt) + steps + 8) * k, max(512, len(prompt)))
    try:
        for i, tok in enumerate(prompt):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = tok, i, 1, 0
            batch.seq_id[i][0] = 0
        batch.logits[len(prompt) - 1] = 1
        batch.n_tokens = len(prompt)
        assert L.llama_decode(ctx, batch) == 0
        first = int(np.argmax(logits(len(prompt) - 1)))
        for s in range(1, k):
            L.llama_memory_seq_cp(mem, 0, s, -1, -1)  # the whole sequence (also across streams)
        last = [first] * k
        t0 = time.perf_counter()
        for step in range(steps):
            for s in range(k):
                batch.token[s], batch.pos[s], batch.n_seq_id[s], batch.logits[s] = last[s], len(prompt) + step, 1, 1
                batch.seq_id[s][0] = s
            batch.n_tokens = k
            assert L.llama_decode(ctx, batch) == 0
            last = [int(np.argmax(logits(s))) for s in range(k)]
        seconds = time.perf_counter() - t0
    finally:
        L.llama_batch_free(batch)
        L.llama_free(ctx)
    return {"tokens": k * steps, "seconds": round(seconds, 3), "tok_s": round(k * steps / seconds, 1)}


def replay(backend: LlamaCppBackend, prompt: list[int], k: int, ops: list) -> dict:
    """The model work of a batched run (its recorded calls and prefix copies, insertions and cut-backs
    included) done again by a bare loop: greedy argmax, no scheduler, sampler, hints or sandbox. What
    the batched run adds to the model's own time for the same work is the price of everything else."""
    return compute.call(replay_loop, backend, prompt, k, ops)


def replay_loop(backend: LlamaCppBackend, prompt: list[int], k: int, ops: list) -> dict:
    import llama_cpp as L

    decodes = [op[1] for op in ops if op[0] == "decode"]
    longest = max((start + n for rows in decodes for _, start, n, _ in rows), default=len(prompt))
    widest = max((sum(n for *_, n, _ in rows) for rows in decodes), default=1)
    ctx, mem, batch, logits = bare_context(backend, k, (longest + 8) * k, max(512, len(prompt), widest))

    def decode(rows: list[tuple[int, int, list[int], bool]]) -> list[int]:
        i, out = 0, []
        for seq, start, tokens, sample in rows:
            for j, tok in enumerate(tokens):
                batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = tok, start + j, 1, 0
                batch.seq_id[i][0] = seq
                i += 1
            if sample:
                batch.logits[i - 1] = 1
                out.append(i - 1)
        batch.n_tokens = i
        assert L.llama_decode(ctx, batch) == 0
        return [int(np.argmax(logits(row))) for row in out]

    try:
        decode([(0, 0, prompt, True)])  # the primed prompt, as in the batched run (lane 0 holds it)
        length, last = [len(prompt)] + [0] * (k - 1), [prompt[-1]] * k
        t0 = time.perf_counter()
        for op in ops:
            if op[0] == "copy":
                _, source, seq, keep = op
                L.llama_memory_seq_rm(mem, seq, -1, -1)
                L.llama_memory_seq_cp(mem, source, seq, -1, -1)
                L.llama_memory_seq_rm(mem, seq, keep, -1)
                length[seq] = keep
                continue
            rows = []
            for seq, start, n, sample in op[1]:
                if length[seq] > start:
                    L.llama_memory_seq_rm(mem, seq, start, -1)
                length[seq] = start + n
                rows.append((seq, start, [last[seq]] * n, sample))  # the tokens' values cost nothing
            sampled = iter(decode(rows))
            for seq, _, _, sample in rows:
                if sample:
                    last[seq] = next(sampled)
        seconds = time.perf_counter() - t0
    finally:
        L.llama_batch_free(batch)
        L.llama_free(ctx)
    return {"seconds": round(seconds, 3), "calls": len(decodes)}


def reasoners(backend: object, sandbox: Sandbox, lanes: list, max_tokens: int) -> list[Reasoner]:
    profile = select_profile(lanes[0].metadata())
    base = Reasoner(lanes[0], sandbox, profile, HintPolicy(before_stop_rounds=2), RunConfig(max_tokens=max_tokens))
    return derive_samples(base, lanes, diverse=True)


def figures(runs: list, seconds: float) -> dict:
    tokens = sum(r.trace.stats["tokens_generated"] for r in runs)
    return {
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "tok_s": round(tokens / seconds, 1),
        "tool_calls": sum(r.trace.stats["tool_calls"] for r in runs),
        "hints": sum(r.trace.stats["hints_auto"] for r in runs),
        "max_eval_ratio": max(r.trace.stats["eval_ratio"] for r in runs),
    }


def primed(lane: object, prompt_text: str) -> None:
    """Decode the shared prompt into a lane (or the single backend) before the clock starts."""
    for _ in lane.stream(prompt_text, SamplingParams(max_tokens=1, temperature=0.0)):  # type: ignore[attr-defined]
        pass


def batched(backend: LlamaCppBackend, sandbox: Sandbox, k: int, max_tokens: int, prompt_text: str) -> dict:
    with backend.batch(k) as lanes:
        samples = reasoners(backend, sandbox, lanes.lanes, max_tokens)
        primed(lanes.lanes[0], prompt_text)
        lanes.profile = StepProfile(ops=[])  # what follows the prompt
        t0 = time.perf_counter()
        group = SampleSet(samples, PROBLEM)
        for _ in group.events():
            pass
        seconds = time.perf_counter() - t0
        profile = lanes.profile
    if group.errors:
        raise RuntimeError(f"samples failed: {group.errors}")
    out = figures(group.runs, seconds)
    # where the wall time went: model calls (with the prompt and every insertion), sampling, the rest
    out["model_s"] = round(profile.model_seconds, 3)
    out["sampling_s"] = round(profile.sampling_seconds, 3)
    out["inserted_tokens"] = profile.inserted_tokens
    out["rows_per_call"] = round(profile.sampled_rows / max(1, profile.calls), 2)
    out["ops"] = profile.ops
    return out


def sequential(backend: LlamaCppBackend, sandbox: Sandbox, k: int, max_tokens: int, prompt_text: str) -> dict:
    samples = reasoners(backend, sandbox, [backend] * k, max_tokens)
    primed(backend, prompt_text)
    t0 = time.perf_counter()
    runs = []
    for reasoner in samples:
        run = reasoner.start(PROBLEM)
        for _ in run.events():
            pass
        runs.append(run)
    return figures(runs, time.perf_counter() - t0)


MODES = ("bare", "batched", "replay", "sequential")


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", default="1,2,4,8")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the three modes, back to back, per K")
    parser.add_argument("--flash-attn", action="store_true", help="llama.cpp's flash attention in every mode")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    path = embedded_model_path(GEMMA_270M.name)
    backend = LlamaCppBackend(path, n_ctx=2048, n_threads=args.threads, flash_attn=args.flash_attn)
    prompt_text = select_profile(backend.metadata()).build_prompt(PROBLEM, backend.metadata())
    prompt = backend.tokenize(prompt_text.encode(), True)
    results: dict[int, dict] = {}
    print(
        f"{'K':>2} {'mode':10s} {'tokens':>7s} {'seconds':>8s} {'tok/s':>7s} "
        f"{'tools':>5s} {'hints':>5s} {'eval/trace':>10s}"
    )
    with Sandbox() as sandbox:
        for k in ks:
            rounds = []
            # the machine's speed drifts over minutes: each round runs the three modes back to back, and the
            # ratios are taken within a round
            for _ in range(args.repeats):
                row = {
                    "bare": bare(backend, prompt, k, args.max_tokens),
                    "batched": batched(backend, sandbox, k, args.max_tokens, prompt_text),
                }
                again = replay(backend, prompt, k, row["batched"].pop("ops"))
                tokens = row["batched"]["tokens"]
                row["replay"] = {**again, "tokens": tokens, "tok_s": round(tokens / again["seconds"], 1)}
                row["sequential"] = sequential(backend, sandbox, k, args.max_tokens, prompt_text)
                for mode, r in row.items():
                    print(
                        f"{k:>2} {mode:10s} {r['tokens']:>7d} {r['seconds']:>8.2f} {r['tok_s']:>7.1f} "
                        f"{r.get('tool_calls', '-'):>5} {r.get('hints', '-'):>5} {r.get('max_eval_ratio', '-'):>10}"
                    )
                b = row["batched"]
                print(
                    f"   batched: model calls {b['model_s']:.2f} s of {b['seconds']:.2f} s · sampling "
                    f"{b['sampling_s']:.2f} s · {b['inserted_tokens']} inserted tokens "
                    f"({b['inserted_tokens'] / b['tokens']:.2f} per generated token) · "
                    f"{b['rows_per_call']} rows per call"
                )
                row["batched_vs_bare"] = b["tok_s"] / row["bare"]["tok_s"]
                row["batched_vs_replay"] = b["tok_s"] / row["replay"]["tok_s"]
                row["replay_vs_bare"] = row["replay"]["tok_s"] / row["bare"]["tok_s"]
                row["batched_vs_sequential"] = b["tok_s"] / row["sequential"]["tok_s"]
                print(
                    f"   batched / bare {row['batched_vs_bare']:.3f} · "
                    f"batched / replay {row['batched_vs_replay']:.3f} (replay / bare {row['replay_vs_bare']:.3f}) · "
                    f"batched / sequential {row['batched_vs_sequential']:.3f}"
                )
                rounds.append(row)
            results[k] = {
                "batched_vs_bare": spread([r["batched_vs_bare"] for r in rounds]),
                "batched_vs_sequential": spread([r["batched_vs_sequential"] for r in rounds]),
                "batched_vs_replay": spread([r["batched_vs_replay"] for r in rounds]),
                "replay_vs_bare": spread([r["replay_vs_bare"] for r in rounds]),
                "tok_s": {m: round(statistics.median(r[m]["tok_s"] for r in rounds), 1) for m in MODES},
                "inserted_per_generated": round(
                    statistics.median(r["batched"]["inserted_tokens"] / r["batched"]["tokens"] for r in rounds), 3
                ),
                "batched_profile": {
                    f: statistics.median(r["batched"][f] for r in rounds)
                    for f in ("model_s", "sampling_s", "inserted_tokens", "rows_per_call")
                },
            }
            print(
                f"   K = {k}, {args.repeats} rounds: batched / bare {results[k]['batched_vs_bare']} · "
                f"batched / replay {results[k]['batched_vs_replay']} · "
                f"batched / sequential {results[k]['batched_vs_sequential']}"
            )
    backend.close()
    print(
        json.dumps(
            {
                "max_tokens": args.max_tokens,
                "threads": args.threads,
                "repeats": args.repeats,
                "flash_attn": args.flash_attn,
                "batched_vs_bare": {k: r["batched_vs_bare"]["median"] for k, r in results.items()},
                "batched_vs_sequential": {k: r["batched_vs_sequential"]["median"] for k, r in results.items()},
                "batched_vs_replay": {k: r["batched_vs_replay"]["median"] for k, r in results.items()},
                "per_k": results,
            }
        )
    )


if __name__ == "__main__":
    main()
