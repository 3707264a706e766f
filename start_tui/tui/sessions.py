"""The autosaved sessions as a list a person can go back to: problem, model, answer, date, branches.

Each problem solved in the app is autosaved to one JSONL file of traces (`SolveSession.start`). A
`SessionSummary` is what the session list shows of one file; summaries are read off the UI thread and
kept per (path, size, modification time), so reopening the list reads only the files that changed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from start_tui.engine.trace import load_traces
from start_tui.errors import StartTuiError


@dataclass(frozen=True)
class SessionSummary:
    path: Path
    modified: float
    problem: str
    model: str
    answer: str | None
    branches: int
    status: str
    """The last run's: finished, incomplete (cut off), or a note that the file cannot be read."""

    @property
    def date(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.modified))

    def matches(self, needle: str) -> bool:
        needle = needle.lower()
        return any(needle in s.lower() for s in (self.problem, self.model, self.answer or "", self.path.name))


_cache: dict[Path, tuple[tuple[int, int], SessionSummary]] = {}
_lock = threading.Lock()


def summarize(path: Path) -> SessionSummary:
    """What the session list shows of one file; a file that cannot be read is listed, saying so."""
    stat = path.stat()
    key = (stat.st_size, stat.st_mtime_ns)
    with _lock:
        hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        traces = load_traces(path)
    except StartTuiError as exc:
        summary = SessionSummary(path, stat.st_mtime, path.stem, "", None, 0, f"unreadable: {exc}")
    else:
        last = traces[-1] if traces else None
        answers = [t.answer for t in traces if t.answer is not None]
        summary = SessionSummary(
            path,
            stat.st_mtime,
            (last.problem.strip().splitlines() or [""])[0] if last else "",
            str(last.meta.get("model", "")) if last else "",
            answers[-1] if answers else None,
            len(traces),
            last.status if last else "empty",
        )
    with _lock:
        _cache[path] = (key, summary)
    return summary


def list_sessions(folder: Path) -> list[SessionSummary]:
    """Every session file in `folder`, the most recent first."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob("*.jsonl") if p.is_file()]
    out = []
    for path in files:
        try:
            out.append(summarize(path))
        except FileNotFoundError:  # deleted meanwhile
            continue
    return sorted(out, key=lambda s: s.modified, reverse=True)
