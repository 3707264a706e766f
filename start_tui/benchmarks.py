"""Benchmark problem sets: the six shipped-alongside JSONL files, each mapped from its own field names.

`load_benchmark("math500")` finds the file in the benchmark folder (`$START_TUI_BENCHMARKS`, else
`../shared/data/benchmarks` beside the working folder or the checkout); any other JSONL loads with
a field mapping. Malformed rows are reported with their line number and skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from start_tui.errors import StartTuiError


@dataclass
class Problem:
    id: str
    benchmark: str
    problem: str
    answer: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadedBenchmark:
    name: str
    path: Path
    problems: list[Problem]
    skipped: list[tuple[int, str]]
    """(line number, reason) of each row that could not be read."""


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class FieldMap:
    """How a row becomes a Problem: the source field of each part (or a function of the row)."""

    problem: str
    answer: str | None
    id: str | None
    extra: tuple[str, ...] = ()
    answer_format: Callable[[Any], str] = _number


BENCHMARKS: dict[str, tuple[str, FieldMap]] = {
    "math500": ("math500.jsonl", FieldMap("problem", "answer", "unique_id", ("subject", "level"))),
    "aime24": ("aime24.jsonl", FieldMap("problem", "answer", "id", ("url",))),
    "aime25": ("aime25.jsonl", FieldMap("prompt", "answer", None)),
    "amc23": ("amc23.jsonl", FieldMap("problem", "answer", "id", ("url",))),
    "gpqa": ("gpqa_diamond.jsonl", FieldMap("Question", "Correct Choice", "id", ("High-level domain", "Subdomain"))),
    "livecodebench": (
        "livecodebench_v5.jsonl",
        FieldMap("prompt", None, "question_id", ("contest_id", "contest_date", "global_id")),
    ),
}


def benchmark_dir() -> Path | None:
    """The folder holding the benchmark files, if one is found."""
    env = os.environ.get("START_TUI_BENCHMARKS")
    if env:
        return Path(env)
    candidates = [Path.cwd() / ".." / "shared" / "data" / "benchmarks"]
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks")
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    return None


def available_benchmarks() -> list[str]:
    folder = benchmark_dir()
    if folder is None:
        return []
    return [name for name, (fname, _) in BENCHMARKS.items() if (folder / fname).is_file()]


def load_benchmark(
    name_or_path: str | Path, mapping: FieldMap | Mapping[str, str] | None = None, *, graded: bool = True
) -> LoadedBenchmark:
    """Problems of a named benchmark, or of any JSONL file with a field mapping. `graded=False` (problems
    to solve, not to score) needs only the problem field: a row without an id gets its line number, a
    row without an answer an empty one."""
    key = str(name_or_path)
    if key in BENCHMARKS and mapping is None:
        fname, fmap = BENCHMARKS[key]
        folder = benchmark_dir()
        if folder is None:
            raise StartTuiError(
                "The benchmark folder was not found; set START_TUI_BENCHMARKS to the folder with the JSONL files."
            )
        path, name = folder / fname, key
    else:
        path, name = Path(name_or_path), Path(name_or_path).stem
        if mapping is None:
            fmap = FieldMap("problem", "answer", "id")
        elif isinstance(mapping, FieldMap):
            fmap = mapping
        else:
            fmap = FieldMap(mapping.get("problem", "problem"), mapping.get("answer"), mapping.get("id"))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise StartTuiError(f"The benchmark file {str(path)!r} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StartTuiError(f"The benchmark file {str(path)!r} cannot be read ({exc}).") from None
    problems: list[Problem] = []
    skipped: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append((number, f"not JSON ({exc.msg})"))
            continue
        if not isinstance(row, dict):
            skipped.append((number, "not a JSON object"))
            continue
        required = (fmap.problem, fmap.answer, fmap.id) if graded else (fmap.problem,)
        missing = [f for f in required if f is not None and f not in row]
        if missing:
            skipped.append((number, f"missing field {', '.join(repr(m) for m in missing)}"))
            continue
        problems.append(
            Problem(
                id=str(row[fmap.id]) if fmap.id and fmap.id in row else str(number),
                benchmark=name,
                problem=str(row[fmap.problem]),
                answer=fmap.answer_format(row[fmap.answer]) if fmap.answer and fmap.answer in row else "",
                meta={k: row[k] for k in fmap.extra if k in row},
            )
        )
    return LoadedBenchmark(name, path, problems, skipped)


def load_readable(name_or_path: str | Path, warn: Callable[[str], None], *, graded: bool = True) -> LoadedBenchmark:
    """`load_benchmark`, refusing a file with no readable row in one sentence and passing each skipped
    row's line to `warn`."""
    loaded = load_benchmark(name_or_path, graded=graded)
    if why := unusable(loaded):
        raise StartTuiError(why)
    for number, reason in loaded.skipped:
        warn(f"{loaded.path}:{number} skipped: {reason}")
    return loaded


def unusable(loaded: LoadedBenchmark) -> str:
    """Why a file gave no problem at all, in one sentence ("" when it gave some)."""
    if loaded.problems:
        return ""
    if not loaded.skipped:
        return f"{loaded.path} holds no problem (it is empty)."
    number, why = loaded.skipped[0]
    more = len(loaded.skipped) - 1
    rest = f", and {more} more line{'s' if more > 1 else ''} could not be read either" if more else ""
    return f"{loaded.path} holds no problem that can be read (line {number}: {why}{rest})."
