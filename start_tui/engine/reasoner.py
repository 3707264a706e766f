"""The Hint-infer loop: generate, insert hints, run code in the sandbox, continue; steerable while it runs.

`Reasoner.start(problem)` gives a `Run`. Iterating `Run.events()` drives it: each step streams
model text, and at the markers the scanner finds it inserts a hint (after a conjunction, before
the end-of-thinking stop, after a failed block), runs a closed code block and appends its output.
From any thread a front end may call `pause`, `resume`, `stop` and `inject_hint`; `events()`
returns at a pause and carries on when iterated again. `branch(offset)` starts a new run from an
earlier point of the trace and leaves the original untouched.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from start_tui.backends.base import Backend, BackendError, SamplingParams
from start_tui.backends.cpu_build import state_dir
from start_tui.engine.answer import extract_answer
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
    HintSource,
    Paused,
    RunStatus,
    Span,
    Started,
    TextDelta,
)
from start_tui.engine.hints import HintChooser, HintLibrary, HintPolicy, split_at_fence
from start_tui.engine.profiles import ModelProfile
from start_tui.engine.scanner import Marker, Mode, Scanner, fence_language
from start_tui.engine.trace import Trace, TraceWriter, trace_events
from start_tui.errors import StartTuiError
from start_tui.sandbox import ExecResult, Sandbox
from start_tui.sandbox.client import Session
from start_tui.sandbox.protocol import png_size

MarkerAction = Literal["continue", "restart", "stop"]
"""What the loop does after a marker: scan on, close the stream and continue after an insertion, or end."""


@dataclass
class RunConfig:
    """Limits and formatting of one run."""

    max_tokens: int = 4096
    """Most tokens the model generates in the run (all continuations together)."""
    sampling: SamplingParams = field(default_factory=SamplingParams)
    output_chars: int = 2000
    """Characters of a code block's printed output shown to the model; the middle is cut beyond it."""
    error_lines: int = 4
    """Last lines of a traceback shown to the model."""
    execute_code: bool = True
    """Run closed code blocks in the sandbox; False leaves them as text (a tool-free baseline)."""
    loop_chars: int = 400
    """End the run (reason `loop`) when the model's text since the last insertion ends in this many
    characters or more that repeat one unit at least `LOOP_REPEATS` times; 0 never does. A greedy
    model caught in such a loop never leaves it, and would spend the rest of the token budget there."""


LOOP_REPEATS = 4
LOOP_MAX_PERIOD = 512
HINT_ROOM_TOKENS = 64
"""Tokens a run must have left for a hint to go in: the code it opens and a few words after the output."""


def loop_period(
    text: str, min_chars: int, repeats: int = LOOP_REPEATS, max_period: int = LOOP_MAX_PERIOD
) -> int | None:
    """The length of the unit `text` ends repeating, when the repetition covers at least `min_chars`
    characters and `repeats` units (the shortest such unit); None when it does not end in a loop."""
    n = len(text)
    if min_chars <= 0 or n < min_chars:
        return None
    probe = min(16, n)
    tail = text[n - probe :]
    floor = max(0, n - probe - max_period)
    # only a unit at which the last characters occur once more can repeat: find those, shortest first
    at = text.rfind(tail, floor, n - 1)
    while at != -1:
        p = n - probe - at
        span = max(min_chars, repeats * p)
        if span > n:
            break
        seg = text[n - span :]
        if seg[p:] == seg[:-p]:
            return p
        at = text.rfind(tail, floor, at + probe - 1)
    return None


def format_output(result: ExecResult, limit: int, error_lines: int, figures: list[dict[str, Any]] | None = None) -> str:
    """The output block appended after a code block: printed text (and warnings), the useful end of an
    error, then a line per figure (`figures`, as `save_figures` gives them): the model reads that it drew
    one and its size, not its bytes."""
    out = result.stdout + result.stderr
    dropped = result.truncated_chars
    if len(out) > limit:
        head, tail = out[: limit // 2], out[-(limit // 2) :]
        dropped += len(out) - len(head) - len(tail)
        out = head + f"\n... ({dropped} characters omitted) ...\n" + tail
    elif dropped:
        out += f"\n... ({dropped} more characters omitted)"
    body = out.rstrip("\n")
    if result.error:
        lines = [line for line in result.error.splitlines() if line.strip()]
        if lines and lines[0].startswith("Traceback"):
            lines = lines[1:]
        err = "\n".join(lines[-error_lines:])
        body = f"{body}\n{err}" if body else err
    shown = [
        f"[figure {f['number']}: {f['width']}x{f['height']}, {'saved' if f['path'] else 'not saved'}]"
        for f in figures or []
    ]
    if result.figures_dropped:
        shown.append(f"[{result.figures_dropped} more figure(s) not kept: past what one call returns]")
    if shown:
        body = "\n".join([body, *shown]) if body else "\n".join(shown)
    if not body:
        body = "(no output)"
    if result.state_lost:
        # the session ended after an earlier call (a timeout, a crash): without this line the model
        # reads only a NameError and may spend its remaining calls guessing why
        body = f"{NOTEBOOK_RESET}\n{body}"
    return f"{OUTPUT_OPEN}{body}{OUTPUT_CLOSE}"


def save_figures(result: ExecResult, folder: Path, stem: str, first: int) -> list[dict[str, Any]]:
    """Write a call's figures as `folder/stem-N.png`, numbered from `first`; a figure that cannot be
    written is kept in the list with an empty path. A figure's bytes are the model's: a file is only
    ever created, never opened through a link or written over (a link planted under the name would
    otherwise aim them at any file of the user's)."""
    out: list[dict[str, Any]] = []
    for number, data in enumerate(result.figures, first):
        width, height = png_size(data) or (0, 0)
        path = folder / f"{stem}-{number}.png"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            saved = str(path)
        except OSError:
            saved = ""
        out.append({"number": number, "width": width, "height": height, "path": saved})
    return out


def figures_dir() -> Path:
    """Where the figures of a run without a trace file go: a folder of the user's own (0700) in start-tui's
    cache, not the shared temporary folder, where another user could make the folder first."""
    return state_dir() / "figures"


OMITTED = re.compile(r"\.\.\. \((\d+) (?:more )?characters omitted\)")
"""The line `format_output` puts where it cut a long output; group 1 is how many characters it left out."""

NOTEBOOK_RESET = "(the notebook was reset: names from earlier calls are gone; define what you need again)"


OUTPUT_OPEN, OUTPUT_CLOSE = "\n```output\n", "\n```\n"
"""The fences around a code block's output in the trace (what the model reads)."""


def output_body(output_text: str) -> str:
    """The printed text inside an output block made by `format_output`."""
    body = output_text.removeprefix(OUTPUT_OPEN).removesuffix(OUTPUT_CLOSE)
    return body.strip("\n")


@dataclass
class _State:
    mode: Mode = "think"
    tool_calls: int = 0
    auto_hints: int = 0
    user_hints: int = 0
    rounds_used: int = 0
    code_start: int = 0
    last_tool_end: int = 0
    calls_before: int = 0
    """Tool calls of a branch's kept prefix that its budget does not count (a fresh budget)."""
    rounds_before: int = 0
    """Before-stop rounds of the kept prefix that its budget does not count."""

    @property
    def calls_spent(self) -> int:
        """Tool calls counted against `max_tool_calls`."""
        return self.tool_calls - self.calls_before

    @property
    def rounds_spent(self) -> int:
        """Before-stop rounds counted against `before_stop_rounds`."""
        return self.rounds_used - self.rounds_before


class Reasoner:
    """Hint-infer over one backend and one sandbox, with a model profile and a hint policy."""

    def __init__(
        self,
        backend: Backend,
        sandbox: Sandbox,
        profile: ModelProfile,
        policy: HintPolicy | None = None,
        config: RunConfig | None = None,
        library: HintLibrary | None = None,
    ) -> None:
        self.backend = backend
        self.sandbox = sandbox
        self.profile = profile
        self.policy = policy or HintPolicy()
        self.config = config or RunConfig()
        self.library = library or HintLibrary.load()
        self.policy.validate(self.library)

    def start(self, problem: str, trace_path: str | Path | None = None, meta: dict[str, Any] | None = None) -> Run:
        """A new run of `problem`; `meta` goes into its trace's metadata (e.g. the sample set it belongs to)."""
        if not problem or not problem.strip():
            raise StartTuiError("The problem is empty; give the problem text (or --file with a non-empty file).")
        prompt = self.profile.build_prompt(problem, self.backend.metadata())
        spans = [Span("prompt", prompt)]
        state = _State(last_tool_end=len(prompt))  # the distance between hints counts the model's text only
        return Run(self, problem, spans, state, trace_path, parent=None, meta=meta)

    def branch(
        self, trace: Trace, offset: int, trace_path: str | Path | None = None, *, fresh_budget: bool = True
    ) -> Run:
        """A new run that continues `trace` from character `offset`; `trace` itself is not changed.

        It keeps the text and the notebook state of the prefix; with `fresh_budget` (the default) its
        tool calls and before-stop rounds are counted from the branch point, as a new attempt's are."""
        text_len = len(trace.text)
        if not trace.prompt_length <= offset <= text_len:
            raise StartTuiError(f"A branch point must lie between {trace.prompt_length} and {text_len} (got {offset}).")
        spans: list[Span] = []
        pos = 0
        for span in trace.spans:
            end = pos + len(span.text)
            if end <= offset:
                spans.append(Span(span.kind, span.text, dict(span.meta)))
            elif pos < offset:
                if span.kind in ("output", "hint"):
                    spans.append(Span(span.kind, span.text, dict(span.meta)))  # never cut one in half
                else:
                    meta = {k: v for k, v in span.meta.items() if k != "index"}
                    spans.append(Span(span.kind, span.text[: offset - pos], meta))
            pos = end
        state = _state_of(spans, self.profile)
        if fresh_budget:
            state.calls_before, state.rounds_before = state.tool_calls, state.rounds_used
        parent = {"trace_id": trace.id, "offset": sum(len(s.text) for s in spans)}
        return Run(self, trace.problem, spans, state, trace_path, parent=parent)


def _state_of(spans: list[Span], profile: ModelProfile) -> _State:
    """Counters and mode at the end of a span list (for branches), read from the events that built it."""
    prompt = Trace(id="", problem="", spans=spans)
    pos = prompt.prompt_length
    state = _State(last_tool_end=pos)
    open_at: int | None = None  # where the code of a block still open starts
    for event in trace_events(prompt)[1:]:
        if isinstance(event, TextDelta | HintInserted | CodeOpened | CodeClosed):
            pos += len(event.text)
        elif isinstance(event, CodeFinished):
            pos += len(event.output_text)
        if isinstance(event, HintInserted):
            if event.source == "user":
                state.user_hints += 1
            else:
                state.auto_hints += 1
            if event.trigger == "before_stop":
                state.rounds_used += 1
        elif isinstance(event, CodeOpened):
            open_at = pos - len(event.template)
        elif isinstance(event, CodeClosed):
            open_at = None
        elif isinstance(event, CodeFinished):
            state.tool_calls += 1 if event.executed else 0
            state.last_tool_end = pos
            open_at = None
        elif isinstance(event, TextDelta) and event.kind == "model":
            open_at = None  # the model writes outside a block
            if any(t in event.text for t in profile.think_end):
                state.mode = "answer"
    if open_at is not None:
        state.mode, state.code_start = "code", open_at
    return state


class Run:
    """One problem being solved; drive it with `events()`, steer it from any thread."""

    def __init__(
        self,
        reasoner: Reasoner,
        problem: str,
        spans: list[Span],
        state: _State,
        trace_path: str | Path | None,
        parent: dict[str, Any] | None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.reasoner = reasoner
        self.backend = reasoner.backend
        self.profile = reasoner.profile
        self.policy = reasoner.policy
        self.config = reasoner.config
        self.state = state
        self.trace = Trace(id="", problem=problem)
        self.chooser = HintChooser(reasoner.library, self.policy, problem)
        self.scanner = Scanner(self.profile.think_end, self.profile.stop, self.policy.conjunctions)
        self.status: RunStatus = "ready"
        self._trace_id = uuid.uuid4().hex[:12]
        self._writer = TraceWriter(trace_path, self._trace_id) if trace_path else None
        # figures are kept beside the trace file (x.jsonl: x.figures/), or in the user's cache
        self._figures_dir = Path(trace_path).with_suffix(".figures") if trace_path else figures_dir()
        self._figure_count = sum(len(s.meta.get("figures", [])) for s in spans)
        self._session: Session | None = None
        self._lock = threading.Lock()
        self._pause = False
        self._stop = False
        self._injected: list[tuple[str, bool]] = []
        self._interrupt = threading.Event()
        self._start_spans = spans
        self._parent = parent
        self._meta = dict(meta or {})
        self._started_at = 0.0
        self._stats0 = (0, 0, 0.0)
        self._loop_period: int | None = None
        self._replay: list[str] = []
        if parent is not None:
            self._replay = [
                spans_text(spans)[s.meta["code_start"] : s.meta["code_end"]]
                for s in spans
                if s.kind == "output" and s.meta.get("executed") and "code_start" in s.meta
            ]

    # -- steering, callable from any thread -------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._pause = True
            self._interrupt.set()

    def resume(self) -> None:
        with self._lock:
            self._pause = False

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._interrupt.set()

    def inject_hint(self, text: str, open_code: bool | None = None) -> None:
        """Insert `text` at the current end of the trace, marked as a user hint.

        `open_code` says whether the model should write code next; by default, when the text ends
        with an opened python fence.
        """
        if not text:
            raise StartTuiError("A hint cannot be empty.")
        if open_code is None:
            open_code = split_at_fence(text)[1] == ""  # it ends with an opened fence
        with self._lock:
            self._injected.append((text, open_code))
            self._interrupt.set()

    def branch(self, offset: int, trace_path: str | Path | None = None, *, fresh_budget: bool = True) -> Run:
        return self.reasoner.branch(self.trace, offset, trace_path, fresh_budget=fresh_budget)

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    @property
    def tokens_generated(self) -> int:
        """Tokens this run has generated so far."""
        return self._generated() if self._started_at else 0

    @property
    def tokens_per_s(self) -> float | None:
        decode_s = self.backend.stats.decode_seconds - self._stats0[2]
        return self.tokens_generated / decode_s if self._started_at and decode_s > 0 else None

    @property
    def prefill(self) -> tuple[int, int] | None:
        """While the backend reads a long text before writing: (tokens read, tokens to read)."""
        return getattr(self.backend, "prefill", None)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._started_at if self._started_at else 0.0

    # -- the loop ----------------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        """Drive the run; returns when it finishes or pauses (iterate again after `resume`)."""
        if self.status == "finished":
            return
        if self.status == "ready":
            yield from self._begin()
        self.status = "running"
        while True:
            with self._lock:
                stop, pause, injected = self._stop, self._pause, self._injected
                self._injected = []
                self._interrupt.clear()
            for text, open_code in injected:
                yield from self._insert_hint(text, source="user", category="user", trigger="user", open_code=open_code)
            if stop:
                yield from self._finish("stopped")
                return
            if pause:
                self.status = "paused"
                yield self._emit(Paused())
                return
            remaining = self.config.max_tokens - self._generated()
            if remaining <= 0:
                yield from self._finish("max_tokens")
                return
            try:
                outcome = yield from self._generate(remaining)
            except BackendError as exc:
                # the model went away mid-run: record why, close the trace as it stands, then tell the caller
                yield self._emit(Error(str(exc)))
                yield from self._finish("error")
                raise
            if outcome is not None:
                yield from self._finish(outcome)
                return

    def _begin(self) -> Iterator[Event]:
        stats = self.backend.stats
        self._stats0 = (stats.tokens_evaluated, stats.tokens_generated, stats.decode_seconds)
        self._started_at = time.monotonic()
        meta = {
            "model": self.backend.name,
            "profile": self.profile.name,
            "policy": asdict(self.policy),
            "config": {k: v for k, v in asdict(self.config).items() if k != "sampling"},
            "sampling": asdict(self.config.sampling),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if note := self.backend.metadata().get("start_tui.note"):  # what the model is (the embedded demo)
            meta["model_note"] = note
        if self._parent:
            meta["parent"] = self._parent
        meta.update(self._meta)
        yield self._emit(Started(self._trace_id, self.trace.problem, self._start_spans, meta))
        if self._replay:
            session = self._get_session()
            for code in self._replay:
                session.run(code)  # rebuild the notebook state of the kept prefix

    def _generated(self) -> int:
        return self.backend.stats.tokens_generated - self._stats0[1]

    def _emit(self, event: Event) -> Event:
        self.trace.apply(event)
        if self._writer is not None:
            self._writer.write(event)
        return event

    def _text_event(self, text: str, kind: str) -> Iterator[Event]:
        if text:
            yield self._emit(TextDelta(text, "code" if kind == "code" else "model"))

    def _generate(self, remaining: int) -> Generator[Event, None, FinishReason | None]:
        """One continuation; returns a finish reason, or None when the loop should go on."""
        params = replace(self.config.sampling, max_tokens=remaining)
        if hasattr(self.backend, "interrupt"):  # it can stop reading a long text when the run is steered
            self.backend.interrupt = self._interrupt
        stream = self.backend.stream(self.trace.text, params)
        buf = ""
        recent, checked = "", 0  # this continuation's own text, for the loop check
        try:
            for delta in stream:
                buf += delta
                recent += delta
                while buf:
                    length = self.trace.length
                    st = self.state
                    safe, marker = self.scanner.scan(
                        buf,
                        st.mode,
                        self.trace.tail(16),
                        self._conjunction_open(length),
                        at_code_start=st.mode == "code" and length == st.code_start,
                    )
                    yield from self._text_event(buf[:safe], st.mode)
                    if marker is None:
                        buf = buf[safe:]
                        break
                    action = yield from self._on_marker(marker)
                    if action == "restart":
                        return None
                    if action == "stop":
                        return "stop"
                    buf = buf[marker.end :]
                if self._interrupt.is_set():
                    return None  # held-back text is dropped: it was never shown
                if self.config.loop_chars and len(recent) - checked >= 32:
                    checked = len(recent)
                    period = loop_period(recent, self.config.loop_chars)
                    if period is not None:
                        yield from self._text_event(buf, self.state.mode)
                        self._loop_period = period
                        return "loop"
                    if len(recent) > 4 * LOOP_MAX_PERIOD + self.config.loop_chars:
                        recent = recent[-(2 * LOOP_MAX_PERIOD + self.config.loop_chars) :]
                        checked = len(recent)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        yield from self._text_event(buf, self.state.mode)
        if self._interrupt.is_set():  # steered while the backend read the text: the loop takes the request
            return None
        if self._generated() >= self.config.max_tokens:
            return "max_tokens"
        # the backend says why its stream ended: a full context window is not the model's own end (a server
        # says `length` for it too, with the run's budget not spent)
        ended = self.backend.last_finish_reason
        if ended == "context" or ended == "length":
            return "context_full"
        if ended == "eos" and self._before_stop_due(at_turn_end=True):  # its end-of-turn token is withheld
            yield from self._insert_auto_hint("before_stop")
            return None
        return "eos"

    def _conjunction_open(self, text_len: int) -> bool:
        p, st = self.policy, self.state
        return (
            p.enabled
            and bool(p.conjunctions)
            and self._calls_to_spare()
            and text_len - st.last_tool_end >= p.min_chars_between
            and self._room_for_a_tool_call()
        )

    def _room_for_a_tool_call(self) -> bool:
        """Whether the token budget leaves room for a hinted code block and the words after its output: a
        hint inserted with less would end the trace on a block that never ran."""
        return self.config.max_tokens - self._generated() >= HINT_ROOM_TOKENS

    def _calls_to_spare(self) -> bool:
        """Whether a hint after a conjunction or an error may take a tool call: it leaves the calls kept
        back for the before-stop rounds still to come."""
        st, p = self.state, self.policy
        return st.calls_spent + p.reserved(st.rounds_spent) < p.max_tool_calls

    def _before_stop_due(self, *, at_turn_end: bool) -> bool:
        """Whether a before-stop hint goes here: at the end of thinking, or where the model ends its turn
        while still thinking (a model without an end-of-thinking marker, or one that never wrote it)."""
        st, p = self.state, self.policy
        if at_turn_end and st.mode != "think":
            return False
        return (
            p.enabled
            and st.rounds_spent < p.before_stop_rounds
            and st.calls_spent < p.max_tool_calls
            and self._room_for_a_tool_call()
        )

    def _on_marker(self, marker: Marker) -> Generator[Event, None, MarkerAction]:
        """Act on a marker: go on scanning, restart the stream (text was inserted), or stop the run."""
        st = self.state
        if marker.kind == "stop":
            if self._before_stop_due(at_turn_end=True):  # the stop string is withheld: the model goes on
                yield from self._insert_auto_hint("before_stop")
                return "restart"
            return "stop"
        if marker.kind == "fence_open":
            yield self._emit(CodeOpened(marker.text, language=fence_language(marker.text), by="model"))
            st.mode, st.code_start = "code", self.trace.length
            return "continue"
        if marker.kind == "conjunction":
            if self.chooser.take_conjunction():
                yield from self._insert_auto_hint(f"conjunction:{marker.text}")
                return "restart"
            yield from self._text_event(marker.text, "model")
            return "continue"
        if marker.kind == "think_end":
            if self._before_stop_due(at_turn_end=False):
                yield from self._insert_auto_hint("before_stop")
                return "restart"
            yield from self._text_event(marker.text, "model")
            st.mode = "answer"
            return "continue"
        # a closing fence: the code is everything since the opener
        code_end = self.trace.length + (1 if marker.text.startswith("\n") else 0)
        yield from self._text_event(marker.text[:1] if marker.text.startswith("\n") else "", "code")
        yield self._emit(CodeClosed(marker.text.lstrip("\n")))
        yield from self._execute(st.code_start, code_end)
        return "restart"

    def _insert_auto_hint(self, trigger: str) -> Iterator[Event]:
        hint = self.chooser.choose()
        text = hint.render()
        if trigger == "before_stop":
            self.state.rounds_used += 1
            # the model's last words may end a line or not: the hint starts a paragraph of its own
            tail = self.trace.tail(2)
            text = ("" if tail.endswith("\n\n") or not tail else "\n" if tail.endswith("\n") else "\n\n") + text
        yield from self._insert_hint(text, source="auto", category=hint.category, trigger=trigger, open_code=True)

    def _insert_hint(
        self, text: str, *, source: HintSource, category: str, trigger: str, open_code: bool
    ) -> Iterator[Event]:
        st = self.state
        if st.mode == "code":
            # inside a code block a hint can only be a comment: the block stays valid Python
            said, _ = split_at_fence(text)
            lines = said.strip().splitlines() or [""]
            text = ("" if self.trace.tail(1) in ("", "\n") else "\n") + "".join(f"# {line}\n" for line in lines)
            open_code = False
        if source == "user":
            st.user_hints += 1
        else:
            st.auto_hints += 1
        yield self._emit(HintInserted(text, source=source, category=category, trigger=trigger, opens_code=open_code))
        if open_code:
            _, template = split_at_fence(text)
            # the code starts after the hint's fence (or at its end, when it has none)
            st.mode, st.code_start = "code", self.trace.length - len(template or "")
            yield self._emit(CodeOpened("", by="hint", template=template or ""))

    def _get_session(self) -> Session:
        if self._session is None:
            self._session = self.reasoner.sandbox.session()
        return self._session

    def _execute(self, start: int, end: int) -> Iterator[Event]:
        st, policy = self.state, self.policy
        code = self.trace.text[start:end]
        index = st.tool_calls + 1
        st.mode = "think" if st.mode == "code" else st.mode
        yield self._emit(CodeStarted(index, code))
        if not self.config.execute_code or st.calls_spent >= policy.max_tool_calls:
            why = "code execution is off" if not self.config.execute_code else "the tool-call limit is reached"
            result = ExecResult(
                ok=False, stdout="", error=f"NotRun: {why}; this code was not run.", timed_out=False, duration_s=0.0
            )
            executed = False
        else:
            result = self._get_session().run(code)
            st.tool_calls += 1
            executed = True
        figures = save_figures(result, self._figures_dir, self._trace_id, self._figure_count + 1)
        self._figure_count += len(figures)
        output = format_output(result, self.config.output_chars, self.config.error_lines, figures)
        event = CodeFinished(
            index=index,
            ok=result.ok,
            stdout=result.stdout,
            error=result.error,
            timed_out=result.timed_out,
            duration_s=result.duration_s,
            output_text=output,
            executed=executed,
            code_start=start,
            code_end=end,
            figures=figures,
        )
        yield self._emit(event)
        st.last_tool_end = self.trace.length
        if executed and not result.ok and policy.enabled and policy.error_hint and self._calls_to_spare():
            hint = self.chooser.error_hint()
            if hint is not None:
                yield from self._insert_hint(
                    hint.render(), source="auto", category=hint.category, trigger="error", open_code=True
                )

    def _finish(self, reason: FinishReason) -> Iterator[Event]:
        said = "".join(s.text for s in self.trace.spans if s.kind == "model")
        answer = extract_answer(said, self.profile.answer_prefixes)
        if answer is not None:
            yield self._emit(AnswerFound(answer))
        stats = self.backend.stats
        evaluated = stats.tokens_evaluated - self._stats0[0]
        gen = stats.tokens_generated - self._stats0[1]
        decode_s = stats.decode_seconds - self._stats0[2]
        trace_tokens = self.backend.count_tokens(self.trace.text)
        st = self.state
        summary = {
            "tokens_generated": gen,
            "tokens_evaluated": evaluated,
            "tokens_in_trace": trace_tokens,
            "eval_ratio": round(evaluated / trace_tokens, 4) if trace_tokens else None,
            "tool_calls": st.tool_calls,
            "hints_auto": st.auto_hints,
            "hints_user": st.user_hints,
            "hint_rounds": st.rounds_used,
            "elapsed_s": round(time.monotonic() - self._started_at, 3),
            "decode_tokens_per_s": round(gen / decode_s, 2) if decode_s > 0 else None,
        }
        if reason == "loop":
            summary["loop_period_chars"] = self._loop_period
        self.status = "finished"
        yield self._emit(Finished(reason, summary))
        if self._writer is not None:
            self._writer.finish(self.trace)
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def spans_text(spans: list[Span]) -> str:
    return "".join(s.text for s in spans)
