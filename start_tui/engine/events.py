"""The typed events the Hint-infer loop emits; every front end (TUI, CLI, trace writer, eval) consumes them."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field, fields
from typing import Any, ClassVar, Literal

SpanKind = Literal["prompt", "model", "hint", "code", "output"]
HintSource = Literal["auto", "user"]
FinishReason = Literal["stop", "eos", "max_tokens", "context_full", "loop", "stopped", "error"]
"""Why a run ended: the model's stop string (`stop`) or end-of-sequence token (`eos`), the run's token
limit (`max_tokens`), a full context window (`context_full`), the model repeating one piece of text
over and over (`loop`, see `RunConfig.loop_chars`), a person (`stopped`), a failed backend (`error`)."""
RunStatus = Literal["ready", "running", "paused", "finished"]
"""Where a live run is: not started, streaming, waiting at a pause, or ended."""
TraceStatus = Literal["running", "finished", "stopped", "error", "incomplete"]
"""A trace's record of its run: `incomplete` is a journal whose run was killed before it ended."""


class Span:
    """A typed piece of the trace text. Concatenating a trace's spans gives its full text.

    Text is appended in chunks and joined when read, so streaming into a long span stays linear.
    """

    __slots__ = ("_chunks", "_length", "kind", "meta")

    def __init__(self, kind: SpanKind, text: str = "", meta: dict[str, Any] | None = None) -> None:
        self.kind: SpanKind = kind
        self.meta: dict[str, Any] = meta if meta is not None else {}
        self._chunks = [text]
        self._length = len(text)

    @property
    def text(self) -> str:
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0]

    def append(self, text: str) -> None:
        self._chunks.append(text)
        self._length += len(text)

    def __len__(self) -> int:
        return self._length

    def tail(self, n: int) -> str:
        """The last `n` characters, reading only the last chunks."""
        out: list[str] = []
        got = 0
        for chunk in reversed(self._chunks):
            out.append(chunk)
            got += len(chunk)
            if got >= n:
                break
        return "".join(reversed(out))[-n:] if n else ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return (self.kind, self.text, self.meta) == (other.kind, other.text, other.meta)

    def __repr__(self) -> str:
        return f"Span({self.kind!r}, {self.text!r}, {self.meta!r})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.meta:
            out["meta"] = self.meta
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Span:
        return cls(kind=obj["kind"], text=obj["text"], meta=dict(obj.get("meta") or {}))


@dataclass
class Event:
    type: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        out = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "spans":
                value = [s.to_json() for s in value]
            out[f.name] = value
        return out


@dataclass
class Started(Event):
    """A run began; `spans` is the text it starts from (the prompt, or a branch's kept prefix)."""

    type: ClassVar[str] = "started"
    trace_id: str
    problem: str
    spans: list[Span]
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class TextDelta(Event):
    """Model output appended to the trace: thinking (`model`) or the inside of a code block (`code`)."""

    type: ClassVar[str] = "text"
    text: str
    kind: Literal["model", "code"] = "model"


@dataclass
class HintInserted(Event):
    """A hint was inserted at the end of the trace, by the policy (`auto`) or by a person (`user`)."""

    type: ClassVar[str] = "hint"
    text: str
    _: KW_ONLY
    source: HintSource = "auto"
    category: str = ""
    trigger: str = ""
    opens_code: bool = True


@dataclass
class CodeOpened(Event):
    """A code block opened. By the model: `text` is the fence it wrote (```` ```python\n ````), part of its
    thinking. By a hint: the fence ends the hint's text, so `text` is empty and `template` is what the
    hint wrote after the fence (code the model continues)."""

    type: ClassVar[str] = "code_opened"
    text: str
    _: KW_ONLY
    language: str = "python"
    by: Literal["model", "hint"] = "model"
    template: str = ""


@dataclass
class CodeClosed(Event):
    """The model closed the open code block; `text` is the closing fence (after the code's last newline)."""

    type: ClassVar[str] = "code_closed"
    text: str = "```"


@dataclass
class CodeStarted(Event):
    """A code block was closed and is about to run; `code` is exactly what runs."""

    type: ClassVar[str] = "code_started"
    index: int
    code: str


@dataclass(kw_only=True)
class CodeFinished(Event):
    """The sandbox answered; `output_text` is the output block appended to the trace."""

    type: ClassVar[str] = "code_finished"
    index: int
    ok: bool
    stdout: str
    error: str | None
    timed_out: bool
    duration_s: float
    output_text: str
    executed: bool = True
    code_start: int = 0
    """Offsets of the code that ran in the trace text (`text[code_start:code_end]`)."""
    code_end: int = 0
    figures: list[dict[str, Any]] = field(default_factory=list)
    """The matplotlib figures the code left: {"number", "width", "height", "path"} (path "" if not saved)."""


@dataclass
class AnswerFound(Event):
    type: ClassVar[str] = "answer"
    answer: str


@dataclass
class Paused(Event):
    """The loop stopped at a clean point and waits; call `Run.resume()` or `Run.inject_hint()`."""

    type: ClassVar[str] = "paused"


@dataclass
class Finished(Event):
    type: ClassVar[str] = "finished"
    reason: FinishReason
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class Error(Event):
    type: ClassVar[str] = "error"
    message: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        Started,
        TextDelta,
        HintInserted,
        CodeOpened,
        CodeClosed,
        CodeStarted,
        CodeFinished,
        AnswerFound,
        Paused,
        Finished,
        Error,
    )
}


def event_from_json(obj: dict[str, Any]) -> Event:
    obj = dict(obj)
    cls = EVENT_TYPES[obj.pop("type")]
    if cls is Started:
        obj["spans"] = [Span.from_json(s) for s in obj["spans"]]
    return cls(**obj)


__all__ = [
    "AnswerFound",
    "CodeClosed",
    "CodeFinished",
    "CodeOpened",
    "CodeStarted",
    "Error",
    "Event",
    "FinishReason",
    "Finished",
    "HintInserted",
    "Paused",
    "RunStatus",
    "Span",
    "SpanKind",
    "Started",
    "TextDelta",
    "TraceStatus",
    "event_from_json",
]
