"""The vote over K samples of one problem (self-consistency, maj@K).

Answers are grouped by an equivalence (for math the eval grader's `is_equivalent`, so `1/2`,
`0.5` and `\\frac{1}{2}` are one answer; for code the outputs on the sample tests). The largest
group wins; a tie goes to the group with more members that ran code without error, then to the
group answered first. Samples without an answer take no part.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from start_tui.engine.answer import is_equivalent


@dataclass
class VoteGroup:
    answer: str
    """The answer as its first member wrote it."""
    members: list[int] = field(default_factory=list)
    """Sample indices, in order."""
    clean_members: list[int] = field(default_factory=list)
    """Members that ran code and had no error."""

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def clean(self) -> int:
        return len(self.clean_members)


@dataclass
class Vote:
    groups: list[VoteGroup]
    """Winner first, then by the same order."""
    unanswered: list[int]
    samples: int

    @property
    def winner(self) -> VoteGroup | None:
        return self.groups[0] if self.groups else None

    @property
    def answer(self) -> str | None:
        return self.groups[0].answer if self.groups else None

    def first(self, k: int) -> Vote:
        """The vote of the first `k` samples alone (maj@k for every k from one grouping: samples
        join groups in index order, so the first k form the same groups on their own)."""
        groups = [
            VoteGroup(g.answer, [m for m in g.members if m < k], [m for m in g.clean_members if m < k])
            for g in self.groups
        ]
        kept = _ranked([g for g in groups if g.members])  # a kept group keeps its first member, so its answer
        return Vote(kept, [m for m in self.unanswered if m < k], min(k, self.samples))

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "samples": self.samples,
            "groups": [
                {"answer": g.answer, "size": g.size, "members": g.members, "clean": g.clean_members}
                for g in self.groups
            ],
            "unanswered": self.unanswered,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vote:
        groups = [VoteGroup(g["answer"], list(g["members"]), list(g["clean"])) for g in data["groups"]]
        return cls(groups, list(data["unanswered"]), int(data["samples"]))


def _ranked(groups: list[VoteGroup]) -> list[VoteGroup]:
    return sorted(groups, key=lambda g: (-g.size, -g.clean, g.members[0]))


def math_equivalent(a: str, b: str) -> bool:
    """Whether two answers are the same number or expression (math-verify, both ways round)."""
    if a.strip() == b.strip():
        return True
    return is_equivalent(a, b) or is_equivalent(b, a)


def vote(
    answers: Sequence[str | None],
    clean: Sequence[bool] | None = None,
    same: Callable[[str, str], bool] = math_equivalent,
) -> Vote:
    """Group `answers` (one per sample, None when a sample gave none) and rank the groups."""
    clean = clean if clean is not None else [False] * len(answers)
    groups: list[VoteGroup] = []
    unanswered: list[int] = []
    for i, answer in enumerate(answers):
        if answer is None or not answer.strip():
            unanswered.append(i)
            continue
        group = next((g for g in groups if same(answer, g.answer)), None)
        if group is None:
            group = VoteGroup(answer)
            groups.append(group)
        group.members.append(i)
        if clean[i]:
            group.clean_members.append(i)
    return Vote(_ranked(groups), unanswered, len(answers))


def vote_by_key(
    keys: Sequence[Hashable | None], shown: Sequence[str | None], clean: Sequence[bool] | None = None
) -> Vote:
    """A vote where answers are equal when their keys are (code: the outputs on the sample tests)."""
    labels = [None if k is None else str(i) for i, k in enumerate(keys)]
    result = vote(labels, clean, same=lambda a, b: keys[int(a)] == keys[int(b)])
    for g in result.groups:
        g.answer = shown[g.members[0]] or ""
    return result
