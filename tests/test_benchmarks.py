"""The six benchmark files load with the row counts their README gives; bad rows are skipped with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from start_tui.benchmarks import load_benchmark, unusable
from start_tui.errors import StartTuiError
from start_tui.eval.code import sample_tests


@pytest.mark.parametrize(
    ("name", "rows"),
    [("math500", 500), ("aime24", 30), ("aime25", 30), ("amc23", 40), ("gpqa", 198), ("livecodebench", 279)],
)
def test_each_benchmark_loads_every_row(name: str, rows: int):
    loaded = load_benchmark(name)
    assert len(loaded.problems) == rows and not loaded.skipped
    assert all(p.problem.strip() for p in loaded.problems)
    assert len({p.id for p in loaded.problems}) == rows  # ids are unique (aime25 has none: line numbers)
    if name == "gpqa":
        assert {p.answer for p in loaded.problems} == {"A", "B", "C", "D"}
    elif name == "livecodebench":
        assert all(sample_tests(p.problem) for p in loaded.problems)  # every prompt shows sample tests
    else:
        assert all(p.answer for p in loaded.problems)
    if name == "amc23":
        assert loaded.problems[0].answer == "27"  # 27.0 in the file


def test_problems_to_solve_need_only_the_problem_and_a_file_with_none_is_one_sentence(tmp_path: Path):
    f = tmp_path / "mine.jsonl"
    f.write_text('{"problem": "1+1?"}\n{"problem": "2+2?", "answer": 4, "id": "x"}\n{"answer": "3"}\n')
    graded = load_benchmark(f)
    assert [p.id for p in graded.problems] == ["x"] and [n for n, _ in graded.skipped] == [1, 3]
    solving = load_benchmark(f, graded=False)
    assert [(p.id, p.answer) for p in solving.problems] == [("1", ""), ("x", "4")]
    assert solving.skipped == [(3, "missing field 'problem'")] and unusable(solving) == ""
    (tmp_path / "none.jsonl").write_text('{"answer": "3", "id": "z"}\n{oops\n')
    why = unusable(load_benchmark(tmp_path / "none.jsonl"))
    assert why.endswith("(line 1: missing field 'problem', and 1 more line could not be read either).")
    (tmp_path / "blank.jsonl").write_text("\n\n")
    assert unusable(load_benchmark(tmp_path / "blank.jsonl")).endswith("holds no problem (it is empty).")


def test_malformed_rows_are_skipped_with_their_line_numbers(tmp_path: Path):
    f = tmp_path / "mine.jsonl"
    lines = [
        '{"problem": "1+1?", "answer": "2", "id": "a"}',
        '{"problem": "no answer", "id": "b"}',
        "{oops",
        "[1, 2]",
        "",
        '{"problem": "2+2?", "answer": 4, "id": "c"}',
    ]
    f.write_text("\n".join(lines) + "\n")
    loaded = load_benchmark(f)
    assert [p.id for p in loaded.problems] == ["a", "c"]
    assert [n for n, _ in loaded.skipped] == [2, 3, 4]
    assert "missing field 'answer'" in loaded.skipped[0][1] and "not JSON" in loaded.skipped[1][1]
    with pytest.raises(StartTuiError, match="does not exist"):
        load_benchmark(tmp_path / "nope.jsonl")
