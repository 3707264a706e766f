"""The broad problem family: many kinds and phrasings, exact answers, a held-out split that is new in
phrasing, in numbers and (optionally) in kind."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

from start_tui.benchmarks import load_benchmark
from start_tui.engine.vote import math_equivalent
from training.problems import BY_NAME, KINDS, broad_problems

TOPICS = {
    "arithmetic", "number theory", "counting", "sequences", "probability", "bases and digits", "divisibility",
    "primes", "polynomials", "linear systems", "calendar and time", "rates and percentages", "geometry",
}  # fmt: skip


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def test_the_family_covers_the_topics_with_several_phrasings_per_kind():
    assert len(KINDS) >= 25 and len(BY_NAME) == len(KINDS)
    assert {k.topic for k in KINDS} == TOPICS
    assert all(len(k.phrasings) >= 3 for k in KINDS)
    assert all(len(set(k.phrasings)) == len(k.phrasings) for k in KINDS)


def test_rows_are_seeded_and_every_kind_takes_its_turn():
    rows = broad_problems(3 * len(KINDS), seed=5)
    assert rows == broad_problems(3 * len(KINDS), seed=5)
    assert rows != broad_problems(3 * len(KINDS), seed=6)
    assert {r["kind"] for r in rows} == set(BY_NAME)
    assert len({r["problem"] for r in rows}) == len(rows)
    for r in rows:  # exact answers: an integer or a reduced fraction
        value = Fraction(r["answer"])
        assert r["answer"] == (
            str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
        )


def test_answers_agree_with_an_independent_computation():
    checks = {
        "gcd": lambda ns: math.gcd(*ns),
        "lcm": lambda ns: math.lcm(*ns),
        "divisor_count": lambda ns: int(sympy.divisor_count(max(ns))),
        "divisor_sum": lambda ns: int(sympy.divisor_sigma(max(ns))),
        "largest_prime_factor": lambda ns: max(sympy.primefactors(max(ns))),
        "totient": lambda ns: int(sympy.totient(max(ns))),
        "prime_count": lambda ns: int(sympy.primepi(max(ns)) - sympy.primepi(min(ns) - 1)),
        "nth_prime": lambda ns: int(sympy.prime(max(ns))),
        "committee": lambda ns: math.comb(max(ns), min(ns)),
        "coins": lambda ns: Fraction(math.comb(max(ns), min(ns)), 2 ** max(ns)),
        "mod_power": lambda ns: pow(ns[0], ns[1], ns[2]),
    }
    rows = [r for split in ("train", "heldout") for r in broad_problems(6 * len(KINDS), seed=1, split=split)]
    checked = defaultdict(int)
    for r in rows:
        if r["kind"] in checks:
            assert Fraction(r["answer"]) == checks[r["kind"]](numbers(r["problem"])), r
            checked[r["kind"]] += 1
    assert set(checked) == set(checks) and min(checked.values()) >= 4


def test_the_held_out_split_is_new_in_phrasing_numbers_and_kind():
    held = ("collatz", "urn", "weekday_count")
    train = broad_problems(20 * len(KINDS), seed=2, holdout_kinds=held)
    heldout = broad_problems(5 * len(KINDS), seed=2, split="heldout", holdout_kinds=held)
    assert not {r["kind"] for r in train} & set(held)
    assert set(held) <= {r["kind"] for r in heldout}
    assert not {r["problem"] for r in train} & {r["problem"] for r in heldout}
    for r in heldout:  # a trained kind is asked only in its last phrasing, never seen in training
        if r["kind"] not in held:
            assert int(r["phrasing"]) == len(BY_NAME[r["kind"]].phrasings) - 1
    assert all(int(r["phrasing"]) < len(BY_NAME[r["kind"]].phrasings) - 1 for r in train)
    for kind in ("gcd", "lcm", "prime_count", "palindromes", "mod_power", "base_digits"):  # and in numbers
        seen = {tuple(sorted(set(numbers(r["problem"])))) for r in train if r["kind"] == kind}
        new = {tuple(sorted(set(numbers(r["problem"])))) for r in heldout if r["kind"] == kind}
        assert seen and new and not seen & new, kind


def test_fraction_answers_are_graded_against_the_way_people_write_them():
    rows = broad_problems(4 * len(KINDS), seed=3)
    money = next(r for r in rows if r["kind"] == "percent_change")
    assert math_equivalent(str(float(Fraction(money["answer"]))), money["answer"])
    dice = next(r for r in rows if r["kind"] == "dice")
    assert math_equivalent(dice["answer"], dice["answer"]) and not math_equivalent(dice["answer"], "1/2")


def test_unknown_held_out_kinds_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown problem kinds: nope"):
        broad_problems(3, holdout_kinds=("nope",))


def test_the_command_writes_both_splits_as_benchmarks(tmp_path: Path):
    out = tmp_path / "problems"
    proc = subprocess.run(
        [sys.executable, "-m", "start_tui", "train", "problems", "--n", "60", "--holdout", "30", "--out-dir", str(out),
         "--holdout-kinds", "collatz,dice"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    train, heldout = load_benchmark(out / "train.jsonl"), load_benchmark(out / "heldout.jsonl")
    assert len(train.problems) == 60 and len(heldout.problems) == 30 and not train.skipped
    kinds = {json.loads(line)["kind"] for line in (out / "train.jsonl").read_text().splitlines()}
    assert "collatz" not in kinds and "dice" not in kinds
    bad = subprocess.run(
        [sys.executable, "-m", "start_tui", "train", "problems", "--out-dir", str(out), "--holdout-kinds", "nope"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode != 0 and "unknown problem kinds: nope" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
