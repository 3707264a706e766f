"""The trace: the one record of a run (typed spans with offsets plus metadata), and its JSONL file.

A trace is built by folding the run's events (`Trace.apply`), live and when a file is read back, so
there is one definition of what an event does to the record. While a run streams, `TraceWriter`
appends each event as a journal line; when it ends the journal is replaced by one compact
`{"trace": ...}` line. A killed process leaves the journal, which `load_traces` folds back.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from start_tui.engine.events import (
    AnswerFound,
    CodeClosed,
    CodeFinished,
    CodeOpened,
    CodeStarted,
    Error,
    Event,
    Finished,
    FinishReason,
    HintInserted,
    Span,
    Started,
    TextDelta,
    TraceStatus,
    event_from_json,
)
from start_tui.engine.hints import split_at_fence
from start_tui.engine.scanner import FENCE_OPENERS, fence_language
from start_tui.errors import StartTuiError

FORMAT = "start-tui/trace-v1"


@dataclass
class Trace:
    id: str
    problem: str
    spans: list[Span] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    status: TraceStatus = "running"
    stats: dict[str, Any] = field(default_factory=dict)
    _length: int | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    @property
    def length(self) -> int:
        """Characters in `text`, without joining it."""
        return sum(len(s) for s in self.spans) if self._length is None else self._length

    def tail(self, n: int) -> str:
        """The last `n` characters of `text`, without joining it."""
        out = ""
        for span in reversed(self.spans):
            out = span.tail(n - len(out)) + out
            if len(out) >= n:
                break
        return out

    def offsets(self) -> list[tuple[int, int]]:
        """(start, end) character offsets of each span in `text`."""
        out, pos = [], 0
        for s in self.spans:
            out.append((pos, pos + len(s.text)))
            pos += len(s.text)
        return out

    @property
    def prompt_length(self) -> int:
        return sum(len(s.text) for s in self.spans if s.kind == "prompt")

    def apply(self, event: Event) -> None:
        """Fold one event into the record."""
        if isinstance(event, Started):
            self.id, self.problem = event.trace_id, event.problem
            self.spans = [Span(s.kind, s.text, dict(s.meta)) for s in event.spans]
            self.meta = dict(event.meta)
            self.status = "running"
            self._length = sum(len(s) for s in self.spans)
            return
        if self._length is None:
            self._length = sum(len(s) for s in self.spans)
        if isinstance(event, TextDelta | CodeOpened | CodeClosed):
            # a fence the model wrote is part of its thinking; a hint's fence is in the hint
            kind = event.kind if isinstance(event, TextDelta) else "model"
            if not event.text:
                return
            self._length += len(event.text)
            last = self.spans[-1] if self.spans else None
            if last is not None and last.kind == kind:
                last.append(event.text)
            else:
                self.spans.append(Span(kind, event.text))
        elif isinstance(event, HintInserted):
            self._length += len(event.text)
            meta = {
                "source": event.source,
                "category": event.category,
                "trigger": event.trigger,
                "opens_code": event.opens_code,
            }
            self.spans.append(Span("hint", event.text, meta))
        elif isinstance(event, CodeFinished):
            meta = {
                "index": event.index,
                "ok": event.ok,
                "timed_out": event.timed_out,
                "duration_s": round(event.duration_s, 4),
                "executed": event.executed,
                "code_start": event.code_start,
                "code_end": event.code_end,
            }
            if event.error:
                meta["error"] = event.error
            if event.figures:
                meta["figures"] = event.figures
            self.spans.append(Span("output", event.output_text, meta))
            self._length += len(event.output_text)
        elif isinstance(event, AnswerFound):
            self.answer = event.answer
        elif isinstance(event, Finished):
            self.status = "stopped" if event.reason == "stopped" else "error" if event.reason == "error" else "finished"
            self.meta["finish_reason"] = event.reason
            self.stats = dict(event.stats)
        elif isinstance(event, Error):
            self.status = "error"
            self.meta["error"] = event.message

    def to_json(self) -> dict[str, Any]:
        spans = []
        for span, (start, end) in zip(self.spans, self.offsets(), strict=True):
            obj = span.to_json()
            obj["start"], obj["end"] = start, end
            spans.append(obj)
        return {
            "format": FORMAT,
            "id": self.id,
            "problem": self.problem,
            "status": self.status,
            "answer": self.answer,
            "meta": self.meta,
            "stats": self.stats,
            "spans": spans,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Trace:
        spans = [Span.from_json(s) for s in obj["spans"]]
        trace = cls(
            id=obj["id"],
            problem=obj.get("problem", ""),
            spans=spans,
            meta=dict(obj.get("meta") or {}),
            answer=obj.get("answer"),
            status=obj.get("status", "finished"),
            stats=dict(obj.get("stats") or {}),
        )
        pos = 0
        for raw, span in zip(obj["spans"], spans, strict=True):
            if "start" in raw and (raw["start"] != pos or raw.get("end") != pos + len(span.text)):
                raise ValueError(f"span offsets of trace {trace.id} do not match its texts")
            pos += len(span.text)
        return trace

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> Trace:
        trace = cls(id="", problem="")
        for event in events:
            trace.apply(event)
        return trace


class _SharedFile:
    """One append handle per trace file in this process, so that runs writing to the same file
    (the branches of a session) never hold a handle to a file another run's compaction replaced."""

    _open: ClassVar[dict[Path, _SharedFile]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.users = 0
        self.handle = path.open("a", encoding="utf-8")

    @classmethod
    def acquire(cls, path: Path) -> _SharedFile:
        key = path.resolve()
        with cls._registry_lock:
            shared = cls._open.get(key)
            if shared is None:
                shared = cls._open[key] = cls(key)
            shared.users += 1
            return shared

    def release(self) -> None:
        with self._registry_lock:
            self.users -= 1
            if self.users == 0:
                self.handle.close()
                del self._open[self.path]


class TraceWriter:
    """Append a run's events to a JSONL file as they happen; compact them into one line at the end."""

    def __init__(self, path: str | os.PathLike[str], trace_id: str) -> None:
        self.path = Path(path)
        self.trace_id = trace_id
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file: _SharedFile | None = _SharedFile.acquire(self.path)
        except OSError as exc:
            raise StartTuiError(f"The trace file {str(self.path)!r} cannot be written ({exc.strerror}).") from None

    def write(self, event: Event) -> None:
        shared = self._file
        if shared is None:
            return
        line = json.dumps({"trace_id": self.trace_id, "event": event.to_json()}, ensure_ascii=False)
        with shared.lock:
            shared.handle.write(line + "\n")
            shared.handle.flush()

    def finish(self, trace: Trace) -> None:
        """Replace this run's journal lines by the compact record, atomically; other runs' lines stay."""
        shared, self._file = self._file, None
        if shared is None:
            return
        with shared.lock:
            shared.handle.close()
            kept: list[str] = []
            with shared.path.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError:
                        kept.append(line)
                        continue
                    if not (isinstance(obj, dict) and obj.get("trace_id") == self.trace_id and "event" in obj):
                        kept.append(line)
            kept.append(json.dumps({"trace": trace.to_json()}, ensure_ascii=False) + "\n")
            fd, tmp = tempfile.mkstemp(dir=shared.path.parent, prefix=shared.path.name, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(kept)
            os.replace(tmp, shared.path)
            shared.handle = shared.path.open("a", encoding="utf-8")
        shared.release()


def trace_events(trace: Trace) -> list[Event]:
    """The events that fold back into `trace`, exactly as the engine emits them (text deltas merged):
    how a saved run is replayed by a front end, and the one place that reads fences out of a trace."""
    spans = trace.spans
    prefix = 0
    while prefix < len(spans) and spans[prefix].kind == "prompt":
        prefix += 1
    events: list[Event] = [Started(trace.id, trace.problem, list(spans[:prefix]), dict(trace.meta))]
    text = trace.text if any(s.kind == "output" for s in spans) else ""
    previous = ""
    for span in spans[prefix:]:
        m = span.meta
        if span.kind == "model":
            body = span.text
            if previous == "code" and body.startswith("```"):
                events.append(CodeClosed("```"))
                body = body[3:]
            opener = next((f for f in FENCE_OPENERS if body.endswith(f)), "")
            if body[: len(body) - len(opener)]:
                events.append(TextDelta(body[: len(body) - len(opener)]))
            if opener:
                events.append(CodeOpened(opener, language=fence_language(opener), by="model"))
        elif span.kind == "code":
            events.append(TextDelta(span.text, "code"))
        elif span.kind == "hint":
            opens_code = m.get("opens_code", True)
            events.append(
                HintInserted(
                    span.text,
                    source=m.get("source", "auto"),
                    category=m.get("category", ""),
                    trigger=m.get("trigger", ""),
                    opens_code=opens_code,
                )
            )
            if opens_code:
                _, template = split_at_fence(span.text)
                events.append(CodeOpened("", by="hint", template=template or ""))
        elif span.kind == "output":
            start, end = m.get("code_start", 0), m.get("code_end", 0)
            events.append(CodeStarted(m.get("index", 0), text[start:end]))
            events.append(
                CodeFinished(
                    index=m.get("index", 0),
                    ok=m.get("ok", True),
                    stdout="",
                    error=m.get("error"),
                    timed_out=m.get("timed_out", False),
                    duration_s=m.get("duration_s", 0.0),
                    output_text=span.text,
                    executed=m.get("executed", True),
                    code_start=start,
                    code_end=end,
                    figures=list(m.get("figures", [])),
                )
            )
        previous = span.kind
    if trace.answer is not None:
        events.append(AnswerFound(trace.answer))
    if trace.status in ("finished", "stopped"):
        reason: FinishReason = trace.meta.get("finish_reason") or ("stopped" if trace.status == "stopped" else "eos")
        events.append(Finished(reason, dict(trace.stats)))
    return events


def save_traces(path: str | os.PathLike[str], traces: list[Trace]) -> Path:
    """Write complete records, one run per line (what `load_traces` reads back)."""
    p = Path(path).expanduser()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("w", encoding="utf-8") as f:
            for trace in traces:
                f.write(json.dumps({"trace": trace.to_json()}, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise StartTuiError(f"The trace file {str(p)!r} cannot be written ({exc.strerror}).") from None
    return p


def load_traces(path: str | os.PathLike[str]) -> list[Trace]:
    """Every run in a trace file, complete records and crash-left journals alike, in file order."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise StartTuiError(f"The trace file {str(p)!r} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StartTuiError(f"The trace file {str(p)!r} cannot be read ({exc}).") from None
    traces: dict[str, Trace] = {}
    journals: dict[str, Trace] = {}
    order: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if "trace" in obj:
                trace = Trace.from_json(obj["trace"])
                traces[trace.id] = trace
                if trace.id not in order:
                    order.append(trace.id)
            else:
                tid = obj["trace_id"]
                journal = journals.setdefault(tid, Trace(id=tid, problem=""))
                journal.apply(event_from_json(obj["event"]))
                if tid not in order:
                    order.append(tid)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise StartTuiError(f"Line {number} of {str(p)!r} is not a start-tui trace line ({exc}).") from None
    out = []
    for tid in order:
        if tid in traces:
            out.append(traces[tid])
        else:
            journal = journals[tid]
            if journal.status == "running":
                journal.status = "incomplete"
            out.append(journal)
    return out
