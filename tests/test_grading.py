"""The grader on real data: every MATH500 solution's boxed answer against the row's answer."""

from __future__ import annotations

import json

import pytest

from start_tui.engine.answer import is_equivalent, last_boxed
from start_tui.eval.grading import choice_letter, grade_choice
from tests.conftest import SHARED

MATH500 = SHARED / "data" / "benchmarks" / "math500.jsonl"


def test_boxed_solutions_agree_with_the_answers_on_all_of_math500():
    rows = [json.loads(line) for line in MATH500.read_text().splitlines()]
    assert len(rows) == 500
    misses = []
    for row in rows:
        boxed = last_boxed(row["solution"])
        if boxed is None or not is_equivalent(boxed, row["answer"]):
            misses.append((row["unique_id"], boxed, row["answer"]))
    agreement = 1 - len(misses) / len(rows)
    print(
        f"\nMATH500 grader agreement (math-verify on every row): {agreement:.1%} "
        f"({len(rows) - len(misses)}/{len(rows)}); misses:"
    )
    for miss in misses:
        print("  ", miss)
    assert agreement >= 0.99, misses


@pytest.mark.parametrize(
    ("pred", "gold", "same"),
    [
        ("\\frac{14}{3}", "\\frac{14}{3}", True),
        ("14/3", "\\frac{14}{3}", True),
        ("4.666667", "\\frac{14}{3}", True),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\frac{\\pi}{2})", True),
        ("x = 5", "5", True),
        ("42925", "42925", True),
        ("42924", "42925", False),
        ("", "1", False),
        ("\\sqrt{2}", "2^{1/2}", True),
        ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}", False),
    ],
)
def test_is_equivalent(pred: str, gold: str, same: bool):
    assert is_equivalent(pred, gold) is same


def test_choice_letters():
    assert choice_letter("C") == "C"
    assert choice_letter("\\boxed{B}") == "B"
    assert choice_letter("(D) 4.2 eV") == "D"
    assert choice_letter("The answer is A") == "A"
    assert choice_letter("") is None
    assert grade_choice("\\boxed{\\text{C}}", "C") and not grade_choice("B", "C")
