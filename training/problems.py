"""Computation-heavy word problems with exact answers, for micro reproductions of the START loop.

Products, sums of powers, prime counts, modular powers, digit sums and binomials: easy to state,
tedious by hand, one line of Python. Seeded, so a recipe's train/held-out split is reproducible.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path


def _primes_below(n: int) -> int:
    sieve = bytearray([1]) * n
    sieve[:2] = b"\x00\x00"
    for i in range(2, int(n**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(sieve[i * i :: i]))
    return sum(sieve)


def _product(r: random.Random) -> tuple[str, int]:
    a, b = r.randint(1000, 99999), r.randint(1000, 99999)
    return f"A warehouse has {a} boxes with {b} screws in each box. How many screws are there in total?", a * b


def _power_sum(r: random.Random) -> tuple[str, int]:
    n, k = r.randint(20, 200), r.randint(2, 5)
    return f"What is the sum of the {k}-th powers of the integers from 1 to {n}?", sum(i**k for i in range(1, n + 1))


def _prime_count(r: random.Random) -> tuple[str, int]:
    n = r.randint(1000, 50000)
    return f"How many prime numbers are less than {n}?", _primes_below(n)


def _mod_power(r: random.Random) -> tuple[str, int]:
    a, b, m = r.randint(2, 999), r.randint(100, 10**6), r.randint(7, 10**4)
    return f"What is the remainder when {a} to the power {b} is divided by {m}?", pow(a, b, m)


def _digit_sum(r: random.Random) -> tuple[str, int]:
    a, b = r.randint(2, 99), r.randint(20, 200)
    return f"What is the sum of the digits of {a} to the power {b}?", sum(int(d) for d in str(a**b))


def _binomial(r: random.Random) -> tuple[str, int]:
    n = r.randint(20, 80)
    k = r.randint(2, n // 2)
    return f"In how many ways can a committee of {k} people be chosen from {n} people?", math.comb(n, k)


KINDS: dict[str, Callable[[random.Random], tuple[str, int]]] = {
    "product": _product,
    "power_sum": _power_sum,
    "prime_count": _prime_count,
    "mod_power": _mod_power,
    "digit_sum": _digit_sum,
    "binomial": _binomial,
}


def generate_problems(n: int, seed: int = 0) -> list[dict[str, str]]:
    """n problems, the kinds in turn, as rows {id, problem, answer, kind}."""
    r = random.Random(seed)
    names = list(KINDS)
    rows = []
    for i in range(n):
        kind = names[i % len(names)]
        text, answer = KINDS[kind](r)
        rows.append({"id": f"{kind}-{i}", "problem": text, "answer": str(answer), "kind": kind})
    return rows


def write_problems(path: str | Path, n: int, seed: int = 0) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(row) + "\n" for row in generate_problems(n, seed)), encoding="utf-8")
    return p
