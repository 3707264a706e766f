"""K samples of one problem run together (parallel test-time scaling), and their vote.

`derive_samples(base, lanes)` makes one reasoner per lane of a batched backend: sample i draws
its hints with seed `seed + i`, and with diverse hints sample i starts its hint cycle at the i-th
category, so the K samples try different tool uses; samples after the first sample at the
profile's sampling temperature and top-p (unless the user fixed them). `SampleSet` starts the K
runs, drives each in its own thread (a sample's sandbox call never holds the others up) and
merges their events, labelled with the sample's index. Each trace records the set it belongs to
(`meta.samples`: set id, index, count), so the K traces are siblings of one problem.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from start_tui.backends.base import Backend
from start_tui.engine.events import Event
from start_tui.engine.reasoner import Reasoner, Run
from start_tui.engine.vote import Vote, math_equivalent, vote


def derive_samples(
    base: Reasoner,
    lanes: Sequence[Backend],
    *,
    diverse: bool = True,
    temperature: float | None = None,
    top_p: float | None = None,
) -> list[Reasoner]:
    """One reasoner per lane; sample 0 keeps `base`'s sampling, the others follow `temperature`,
    `top_p` (the user's) or else the profile's sample settings."""
    out = []
    profile = base.profile
    for i, lane in enumerate(lanes):
        policy = replace(base.policy, seed=base.policy.seed + i)
        if diverse and policy.enabled and not policy.fixed_category:
            policy = replace(policy, cycle_from=i)
        sampling = replace(base.config.sampling, seed=base.config.sampling.seed + i)
        if i > 0:
            sampling = replace(
                sampling,
                temperature=profile.sample_temperature if temperature is None else temperature,
                top_p=profile.sample_top_p if top_p is None else top_p,
            )
        config = replace(base.config, sampling=sampling)
        out.append(Reasoner(lane, base.sandbox, profile, policy, config, base.library))
    return out


def is_clean(run: Run) -> bool:
    """Whether the run called the tool and none of its code failed."""
    ran = [s for s in run.trace.spans if s.kind == "output" and s.meta.get("executed")]
    return bool(ran) and all(s.meta.get("ok") for s in ran)


class SampleSet:
    """K runs of one problem; `events()` drives them together and yields `(sample index, event)`."""

    def __init__(self, reasoners: Sequence[Reasoner], problem: str, trace_path: str | Path | None = None) -> None:
        self.id = uuid.uuid4().hex[:12]
        k = len(reasoners)
        self.runs = [
            r.start(problem, trace_path, meta={"samples": {"set": self.id, "index": i, "of": k}})
            for i, r in enumerate(reasoners)
        ]
        self.errors: dict[int, BaseException] = {}
        self._merged: queue.Queue[tuple[int, Event | BaseException | None]] = queue.Queue()
        self._driving: set[int] = set()

    def __len__(self) -> int:
        return len(self.runs)

    def events(self) -> Iterator[tuple[int, Event]]:
        """Drive every unfinished run in its own thread until all of them finish or pause.

        Interrupted (Ctrl+C while it waits), it can be called again: the runs still being driven
        are not started twice, and no event is lost.
        """
        merged = self._merged

        def drive(i: int, run: Run) -> None:
            try:
                for event in run.events():
                    merged.put((i, event))
            except BaseException as exc:  # reported to the caller, the other samples go on
                merged.put((i, exc))
            finally:
                merged.put((i, None))

        for i, run in enumerate(self.runs):
            if not run.finished and i not in self._driving:
                self._driving.add(i)
                threading.Thread(target=drive, args=(i, run), name=f"sample-{i}", daemon=True).start()
        while self._driving:
            i, item = merged.get()
            if item is None:
                self._driving.discard(i)
            elif isinstance(item, BaseException):
                self.errors[i] = item
            else:
                yield i, item

    def stop(self) -> None:
        for run in self.runs:
            run.stop()

    def pause(self) -> None:
        for run in self.runs:
            run.pause()

    def resume(self) -> None:
        for run in self.runs:
            run.resume()

    def vote(self, same: Callable[[str, str], bool] = math_equivalent) -> Vote:
        return vote([r.trace.answer for r in self.runs], [is_clean(r) for r in self.runs], same)
