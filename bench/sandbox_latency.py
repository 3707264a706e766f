"""Sandbox round trip p50/p95 over N runs, warm worker vs a fresh `python -c`.

For `print(1+1)` and for a sympy call: a warm session (the engine's path: one session per problem,
variables kept), a fresh session per call (supervisor, init and runner forked from the warm worker,
new PID, mount, IPC, UTS and network namespaces, /proc and /tmp mounted, uid dropped, seccomp), and
a fresh interpreter per call (`python -c`, with sympy imported when the code needs it, unconfined).
Also a new sandbox's start to its first result and its close (what each `start-tui exec` pays).
Goals: warm p50 <= 20 ms for `print(1+1)` and <= 50 ms for the sympy call; a fresh session <= 50 ms.

    python bench/sandbox_latency.py [-n 100]
    python bench/sandbox_latency.py --against DIR [--rounds 3]

With `--against`, the warm and fresh-session figures of this checkout and of another one (a git
worktree of an earlier commit: `git worktree add /tmp/base COMMIT`) are measured side by side in
one run: rounds alternate between the two, each in its own interpreter and worker, and the table
gives each round's p50/p95 and the spread over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CASES = {
    "print(1+1)": "print(1+1)",
    "sympy call": "import sympy\nprint(sympy.factorint(2**32 + 1))",
}


def measure(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[int(q) - 1]


def sessions_only(n: int) -> dict[str, list[float]]:
    """Warm and fresh-session round trips of this interpreter's `start_tui` (the side-by-side mode)."""
    from start_tui.sandbox import Sandbox

    out: dict[str, list[float]] = {}
    with Sandbox() as sandbox:
        for name, code in CASES.items():
            session = sandbox.session()
            assert session.run(code).ok
            out[f"{name} | warm session"] = measure(lambda code=code, session=session: session.run(code), n)
            session.close()
            out[f"{name} | fresh session"] = measure(lambda code=code: sandbox.run(code), n)
    out.update(lifecycle(max(3, n // 20)))
    return out


def lifecycle(n: int) -> dict[str, list[float]]:
    """A new sandbox's start to its first result (the worker imports every allowed module), and its
    close: what each `start-tui exec` pays besides the call."""
    from start_tui.sandbox import Sandbox

    starts, closes = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        sandbox = Sandbox()
        assert sandbox.run("print(1+1)").ok
        t1 = time.perf_counter()
        sandbox.close()
        starts.append((t1 - t0) * 1000)
        closes.append((time.perf_counter() - t1) * 1000)
    return {"new sandbox | start to result": starts, "new sandbox | close": closes}


def side_by_side(against: Path, n: int, rounds: int) -> None:
    here = Path(__file__).resolve().parents[1]
    checkouts = {"this": here, "against": against.resolve()}
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in range(rounds):
        for label, root in checkouts.items() if r % 2 == 0 else reversed(checkouts.items()):
            env = dict(os.environ, PYTHONPATH=str(root))
            cmd = [sys.executable, __file__, "-n", str(n), "--json"]
            data = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout)
            for key, xs in data.items():
                figures.setdefault((key, label), []).append((statistics.median(xs), pct(xs, 95)))
    print(f"this: {checkouts['this']}  against: {checkouts['against']}  ({rounds} rounds of {n} calls, alternating)")
    print(f"{'code | path':30s} {'checkout':9s} {'p50 ms per round':>28s} {'p95 ms per round':>28s}")
    for (key, label), rows in figures.items():
        p50s = " ".join(f"{a:6.1f}" for a, _ in rows)
        p95s = " ".join(f"{b:6.1f}" for _, b in rows)
        print(f"{key:30s} {label:9s} {p50s:>28s} {p95s:>28s}")
    for key in dict.fromkeys(k for k, _ in figures):
        ratios = [a / b for (a, _), (b, _) in zip(figures[(key, "this")], figures[(key, "against")], strict=True)]
        print(f"{key:30s} p50 this/against per round: " + " ".join(f"{x:.2f}" for x in ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--against", type=Path, help="another checkout to measure side by side with this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(sessions_only(args.n)))
        return
    if args.against:
        side_by_side(args.against, args.n, args.rounds)
        return
    from start_tui.sandbox import Sandbox

    rows = []
    with Sandbox() as sandbox:
        for name, code in CASES.items():
            session = sandbox.session()
            assert session.run(code).ok
            warm = measure(lambda code=code, session=session: session.run(code), args.n)
            session.close()
            fresh = measure(lambda code=code: sandbox.run(code), args.n)
            cold = measure(
                lambda code=code: subprocess.run([sys.executable, "-c", code], capture_output=True, check=True),
                max(10, args.n // 5),
            )
            rows += [(name, "warm session", warm), (name, "fresh session (fork)", fresh), (name, "python -c", cold)]
        print(f"sandbox: {sandbox.isolation}")
    for key, xs in lifecycle(max(3, args.n // 20)).items():
        name, path = key.split(" | ")
        rows.append((name, path, xs))
    print(f"{'code':12s} {'path':22s} {'runs':>5s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for name, path, xs in rows:
        print(f"{name:12s} {path:22s} {len(xs):>5d} {statistics.median(xs):>8.1f} {pct(xs, 95):>8.1f}")
    p50 = {(name, path): statistics.median(xs) for name, path, xs in rows}
    goals = [
        ("warm print(1+1) p50 <= 20 ms", p50[("print(1+1)", "warm session")] <= 20),
        ("warm sympy call p50 <= 50 ms", p50[("sympy call", "warm session")] <= 50),
        ("fresh session print(1+1) p50 <= 50 ms", p50[("print(1+1)", "fresh session (fork)")] <= 50),
    ]
    for goal, ok in goals:
        print(f"goal {goal}: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
