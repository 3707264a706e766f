"""Decontamination: training problems checked against every benchmark `start-tui eval` scores.

The test is the n-gram overlap of open-r1's `decontaminate.py` (after s1): texts are lower-cased,
punctuation becomes space, and two problems overlap when they share a run of n words (8 by
default). A shared 8-word run alone also catches stock phrases ("what is the sum of the digits
of" opens problems of every kind), so a training problem is flagged when the runs it shares with
one benchmark problem cover at least `share` of that benchmark problem's words: a copied or
lightly edited benchmark problem covers nearly all of them, a generated problem that happens to
open with the same phrase a small part. `share = 0` is open-r1's rule (any shared run).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from start_tui.benchmarks import Problem, available_benchmarks, load_benchmark

_PUNCT = re.compile(r"[^\w\s]")


def words(text: str) -> list[str]:
    """The text's words, lower-cased, punctuation removed (open-r1's normalization)."""
    return _PUNCT.sub(" ", text.lower()).split()


def _grams(ws: list[str], n: int) -> list[tuple[str, ...]]:
    if len(ws) < n:
        return [tuple(ws)] if ws else []  # a text shorter than n words overlaps only as a whole
    return [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]


@dataclass(frozen=True)
class Overlap:
    """A training problem that overlaps a benchmark problem."""

    problem: Problem
    benchmark: str
    benchmark_id: str
    share: float
    """Share of the benchmark problem's words inside runs the two share."""


class BenchmarkIndex:
    """The n-grams of a set of benchmark problems, for looking training problems up against."""

    def __init__(self, benchmarks: dict[str, list[Problem]], n: int = 8) -> None:
        if n < 1:
            raise ValueError("the n-gram size is at least 1")
        self.n = n
        self.names = sorted(benchmarks)
        self._problems: list[tuple[str, Problem, int]] = []
        # each run of words -> (benchmark problem, where the run starts in it)
        self._index: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
        self._short: set[int] = set()
        """Lengths of benchmark problems shorter than n words (indexed whole, looked up as such)."""
        for name in self.names:
            for problem in benchmarks[name]:
                ws = words(problem.problem)
                k = len(self._problems)
                self._problems.append((name, problem, len(ws)))
                if 0 < len(ws) < n:
                    self._short.add(len(ws))
                seen: set[tuple[str, ...]] = set()
                for i, gram in enumerate(_grams(ws, n)):
                    if gram not in seen:
                        seen.add(gram)
                        self._index[gram].append((k, i))

    @classmethod
    def of_known_benchmarks(cls, n: int = 8) -> BenchmarkIndex:
        """Every benchmark `start-tui eval` knows whose file is present (see `start_tui.benchmarks`)."""
        return cls({name: load_benchmark(name).problems for name in available_benchmarks()}, n)

    def overlaps(self, problems: Iterable[Problem], share: float = 0.5) -> list[Overlap]:
        """The problems that overlap a benchmark problem (each once, with its largest overlap)."""
        found: list[Overlap] = []
        for problem in problems:
            ws = words(problem.problem)
            lookups = [*_grams(ws, self.n), *(g for size in self._short for g in _grams(ws, size) if len(g) == size)]
            # for each benchmark problem hit, the positions of its words inside runs the two share
            covered: dict[int, set[int]] = defaultdict(set)
            for gram in lookups:
                for k, start in self._index.get(gram, ()):
                    covered[k].update(range(start, start + len(gram)))
            best: Overlap | None = None
            for k, positions in covered.items():
                name, bench, length = self._problems[k]
                part = len(positions) / max(length, 1)
                if part >= share and (best is None or part > best.share):
                    best = Overlap(problem, name, bench.id, round(part, 3))
            if best is not None:
                found.append(best)
        return found


__all__ = ["BenchmarkIndex", "Overlap", "words"]
