"""Sandbox round trip p50/p95 over N runs, warm worker vs a fresh `python -c`.

For `print(1+1)` and for a sympy call: a warm session (the engine's path: one session per problem,
variables kept), a fresh session per call (supervisor, init and runner forked from the warm worker,
new PID, mount, IPC, UTS and network namespaces, /proc and /tmp mounted, uid dropped, seccomp), and
a fresh interpreter per call (`python -c`, with sympy imported when the code needs it, unconfined).
Goals: warm p50 <= 20 ms for `print(1+1)` and <= 50 ms for the sympy call; a fresh session <= 50 ms.

    python bench/sandbox_latency.py [-n 100]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from start_tui.sandbox import Sandbox

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
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
