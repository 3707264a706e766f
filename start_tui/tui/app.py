"""The Textual app: type a problem, watch the reasoning stream, steer it with hints, branch, save.

The engine runs in a worker thread (`_drive`) and hands its events over in batches with
`post_message`; the app only renders them (`Conversation.show`) and calls the run's thread-safe
controls. Every run is autosaved as a trace while it streams.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Header, TextArea

from start_tui.backends import Backend
from start_tui.backends.embedded import DEFAULT_MODEL, EMBEDDED
from start_tui.benchmarks import available_benchmarks, load_benchmark
from start_tui.engine import Reasoner, Run, TextDelta, Trace
from start_tui.engine.events import Event
from start_tui.errors import StartTuiError
from start_tui.options import EngineOptions, check_app_options, model_label
from start_tui.sandbox import Sandbox
from start_tui.tui.clipboard import system_copy
from start_tui.tui.collector import CollectorHold
from start_tui.tui.messages import EngineEvents, EngineFailed, EngineReady, RunSettled
from start_tui.tui.screens.choose import ChooseScreen
from start_tui.tui.screens.help import HelpScreen, key_names
from start_tui.tui.screens.hint import HintScreen
from start_tui.tui.screens.models import ModelChoice, ModelScreen
from start_tui.tui.screens.prompt import PromptScreen
from start_tui.tui.screens.sessions import SessionsScreen
from start_tui.tui.screens.settings import SettingsScreen
from start_tui.tui.session import Branch, SolveSession, model_text, open_engine, spent
from start_tui.tui.settings import (
    default_settings,
    load_settings,
    load_ui_state,
    save_settings,
    save_ui_state,
    sessions_dir,
)
from start_tui.tui.strips import untangle
from start_tui.tui.widgets.conversation import Conversation
from start_tui.tui.widgets.footer import Footer
from start_tui.tui.widgets.items import ExecutionItem, segment_preview
from start_tui.tui.widgets.search import SearchBar
from start_tui.tui.widgets.segments import ExecutionPanel
from start_tui.tui.widgets.status import RunFacts, StatusLine
from start_tui.visible import visible

untangle()  # Textual's lines free by reference counting, not a full collection (strips.py)

BATCH_TOKENS = 32
BATCH_SECONDS = 0.05


def merged(events: list[Event]) -> list[Event]:
    """`events` with each run of consecutive text deltas of one kind made one delta."""
    out: list[Event] = []
    for event in events:
        last = out[-1] if out else None
        if isinstance(event, TextDelta) and isinstance(last, TextDelta) and last.kind == event.kind:
            out[-1] = TextDelta(last.text + event.text, event.kind)
        else:
            out.append(event)
    return out


def counted_here(backend: Backend, text: str) -> int | None:
    """The tokens of `text` by a model's own tokenizer in this process, without the BOS a count adds;
    None for a served model (counting is a request that may be slow, or an estimate)."""
    from start_tui.backends.openai import OpenAIBackend

    if isinstance(backend, OpenAIBackend):
        return None
    return backend.count_tokens(text) - backend.count_tokens("")


def _with_folder(path: str) -> Path:
    """A path typed into a save or export prompt, with its folder made (the save_dir setting may name
    one that does not exist yet)."""
    target = Path(path).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartTuiError(f"The folder {str(target.parent)!r} cannot be made ({exc.strerror}).") from None
    return target


def ended(trace: Trace) -> str:
    """A finished run's state, with why it ended when the model did not end it itself."""
    reason = trace.meta.get("finish_reason")
    return "finished" if reason in (None, "stop", "eos") else f"finished · {str(reason).replace('_', ' ')}"


class StartApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "start-tui"
    SUB_TITLE = "Hint-infer with a sandboxed Python tool"
    # The run's keys are priority bindings: Textual checks those when the key reaches the app, the first
    # hop, where a plain binding waits for the key to go through the focused widget's queue and bubble
    # back through the screen's and the app's (behind the stream's batches and frames: 50 ms at p95
    # while a long run streams). A text field still gets its letters (Textual leaves out a binding the
    # focused widget would consume), and `check_action` declines them under a dialog.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "start", "Solve", priority=True),
        Binding("ctrl+n", "new_problem", "New problem", show=False, priority=True),
        Binding("escape", "stop", "Stop"),
        Binding("p", "pause", "Pause/resume", priority=True),
        Binding("h", "hint", "Hint", priority=True),
        Binding("b", "branch", "Branch", priority=True),
        Binding("v", "branches", "Branches", priority=True),
        Binding("right_square_bracket", "next_branch", "Next branch", show=False, priority=True),
        Binding("left_square_bracket", "previous_branch", "Previous branch", show=False, priority=True),
        Binding("t", "toggle_thinking", "Thinking", priority=True),
        Binding("slash", "search", "Find in the trace", show=False, priority=True),
        Binding("n", "next_match", "Next match", show=False, priority=True),
        Binding("N", "previous_match", "Previous match", show=False, priority=True),
        Binding("s", "save", "Save", priority=True),
        Binding("e", "export", "Export .md", show=False, priority=True),
        Binding("f3,l", "sessions", "Sessions", priority=True),
        Binding("f4,m", "pick_model", "Model", priority=True),
        Binding("o,ctrl+o", "open", "Open trace", show=False, priority=True),
        Binding("c", "copy_answer", "Copy answer", show=False, priority=True),
        Binding("y", "copy_code", "Copy code", show=False, priority=True),
        Binding("ctrl+l", "load_file", "Problem file", priority=True, show=False),
        Binding("ctrl+b", "pick_benchmark", "Benchmark", priority=True),
        Binding("f2,comma", "settings", "Settings", priority=True),
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]
    MAIN_VIEW_ACTIONS = frozenset(b.action for b in BINDINGS if isinstance(b, Binding) and b.action != "quit")
    """They act on the main view, so a dialog on top declines their keys (its own keys, or its text
    field, get them): Ctrl+R under a benchmark picker starts no run behind it."""

    def __init__(
        self,
        settings: EngineOptions | None = None,
        open_path: str | Path | None = None,
        problem: str = "",
        load_engine: bool = True,
        autostart: bool = False,
    ) -> None:
        super().__init__()
        self._settings_error = ""
        if settings is None:
            try:
                settings = load_settings()
            except StartTuiError as exc:
                self._settings_error = str(exc)
                settings = default_settings()
        self.session = SolveSession(settings, sessions_dir())
        """The engine, the branches and the files; this class keeps the widgets and the keys."""
        self.open_path = open_path
        self.initial_problem = problem
        self.load_engine = load_engine
        self.autostart = autostart
        self._driving: set[Run] = set()
        self._resume_after_settle: set[Run] = set()
        self._stopping: set[Run] = set()
        """Runs asked to stop that have not finished yet (reading a long prompt stops at its next batch)."""
        self._shown: dict[Run, list[Event]] = {}
        """Every event the UI thread has received, per run (a streaming branch is viewed from it), with
        the text deltas of a batch merged: one object per batch, not per token, for a long run."""
        self._start_when_ready = False
        self._loading = False
        self._assembled_percent: int | None = None
        self._status_at = 0.0
        self.facts = RunFacts(model=model_label(settings))
        self.collector = CollectorHold(self)
        """Holds the garbage collector while the answer to a key (or a jump of the view) is drawn."""

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key):
            await super().on_event(event)
            return
        token = self.collector.hold()  # a full collection runs after the key's answer is drawn, not during
        try:
            await super().on_event(event)
        finally:
            self.collector.release_after_refresh(token)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Errors stay on screen long enough to read (Textual's default is a few seconds for all); a
        notice's text is shown as written, never as markup."""
        if timeout is None:
            timeout = 20.0 if severity == "error" else 6.0
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MAIN_VIEW_ACTIONS and len(self.screen_stack) > 1)

    # -- the session model, as the rest of the app reads it -----------------------------------------
    @property
    def settings(self) -> EngineOptions:
        return self.session.settings

    @property
    def reasoner(self) -> Reasoner | None:
        return self.session.reasoner

    @property
    def sandbox(self) -> Sandbox | None:
        return self.session.sandbox

    @property
    def branches(self) -> list[Branch]:
        return self.session.branches

    @property
    def current(self) -> int | None:
        return self.session.current

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="problem-box"):
            yield TextArea(self.initial_problem, id="problem", soft_wrap=True, show_line_numbers=False)
        yield Conversation(id="conversation")
        yield SearchBar(id="search")
        yield StatusLine(id="status")
        yield Footer()

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    @property
    def editor(self) -> TextArea:
        return self.query_one("#problem", TextArea)

    def on_mount(self) -> None:
        theme = load_ui_state().get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, lambda theme: save_ui_state(theme=theme.name))
        self.editor.border_title = "problem · Ctrl+R solve · Ctrl+B benchmark · Ctrl+L file"
        self.editor.focus()
        if self._settings_error:
            self.notify(self._settings_error + " Using the defaults.", severity="error", timeout=10)
        self.set_interval(0.5, self._refresh_status)
        if self.load_engine:
            self._reload(self.settings)
        else:
            self.facts.state, self.facts.model = "no model", "no model loaded"
        if self.open_path:
            self.call_after_refresh(self._open_traces, Path(self.open_path))
        if self.autostart:
            self.call_after_refresh(self.action_start)
        self._refresh_status()
        # What exists now (modules, classes, the screen) lives as long as the app: out of the garbage
        # collector's view, a full collection walks only what the session made since, and the pauses
        # of a long run stay short (measured at 32k tokens: 11-69 ms, against 38-122 ms).
        gc.freeze()

    # -- the engine ----------------------------------------------------------------------------
    def _reload(self, settings: EngineOptions, backend: Backend | None = None, save: bool = False) -> None:
        """Open a new engine for `settings` off the UI thread (a new model unless `backend` is given);
        with `save`, the settings become the app's and are saved once the engine works."""
        self._loading = True
        self.facts.state = "loading model…" if backend is None else "restarting the sandbox…"
        self._refresh_status()
        self._load_engine(settings, backend, save)

    @work(thread=True, exclusive=True, group="load")
    def _load_engine(self, settings: EngineOptions, backend: Backend | None, save: bool) -> None:
        """Open what the settings need, in a worker thread; the UI thread swaps it in (`on_engine_ready`)."""
        try:
            reasoner, sandbox = open_engine(settings, backend, self._assembly_progress)
        except StartTuiError as exc:
            self.post_message(EngineFailed(str(exc), save))
            return
        self.post_message(EngineReady(reasoner, sandbox, settings, save))

    def _assembly_progress(self, done: int, total: int) -> None:
        """From the loading thread: the embedded model is being assembled from its packages (once)."""
        percent = 100 * done // max(1, total)
        if percent != self._assembled_percent:
            self._assembled_percent = percent
            self.call_from_thread(self._show_state, f"assembling the model {percent}%…")

    def _show_state(self, state: str) -> None:
        if self._loading:
            self.facts.state = state
            self._refresh_status()

    def on_engine_ready(self, message: EngineReady) -> None:
        self._loading = False
        # options of the app alone (save_dir) changed while the model loaded were saved meanwhile: kept
        settings = message.settings.with_app_options(self.settings)
        self.session.settings = settings
        if message.save:
            self._save_settings(settings)
        model = settings.model
        if model and model not in EMBEDDED and settings.backend != "openai":  # offered again by the picker
            recent = [r for r in load_ui_state().get("recent_models", []) if r != model]
            save_ui_state(recent_models=[model, *recent][:10])
        for run in self.session.swap_engine(message.reasoner, message.sandbox):
            if run not in self._driving:
                self._start_drive(run)  # a paused run that used the old engine finishes on its next step
        self.session.close_retired(self._driving)
        reasoner = message.reasoner
        self.facts.model = visible(reasoner.backend.name)  # a GGUF's own name, from its metadata
        self.facts.state = "ready"
        if note := reasoner.backend.metadata().get("start_tui.note"):
            self.notify(visible(note), title=visible(reasoner.backend.name), timeout=10)
        self.facts.max_tool_calls = reasoner.policy.max_tool_calls
        self.facts.max_rounds = reasoner.policy.before_stop_rounds
        self._refresh_status()
        if self._start_when_ready:
            self._start_when_ready = False
            self.action_start()

    def on_engine_failed(self, message: EngineFailed) -> None:
        self._loading = False
        self._start_when_ready = False
        self.facts.state = "ready" if self.reasoner is not None else "no model"
        if self.reasoner is None:
            self.facts.model = "no model loaded"
        self._refresh_status()
        if self.reasoner is not None:
            kept = " The model in use stays, with the settings it had"
            text = f"{message.message}{kept}{'; the change is not saved.' if message.save else '.'}"
        else:
            text = f"{message.message} No model is loaded: pick one in the settings (F2)."
        self.notify(text, severity="error", timeout=30)

    @work(thread=True, group="engine")
    def _drive(self, run: Run) -> None:
        """Iterate the run in this worker thread; hand events to the app in batches."""
        batch: list = []
        last = time.monotonic()
        error = None
        try:
            for event in run.events():
                batch.append(event)
                now = time.monotonic()
                if not isinstance(event, TextDelta) or len(batch) >= BATCH_TOKENS or now - last >= BATCH_SECONDS:
                    self.post_message(EngineEvents(run, batch))
                    batch, last = [], now
        except StartTuiError as exc:
            error = str(exc)
        if batch:
            self.post_message(EngineEvents(run, batch))
        self.post_message(RunSettled(run, error))

    def _start_drive(self, run: Run) -> None:
        if run in self._driving:
            self._resume_after_settle.add(run)
            return
        self._driving.add(run)
        self._drive(run)

    async def on_engine_events(self, message: EngineEvents) -> None:
        self._shown.setdefault(message.run, []).extend(merged(message.events))
        branch = self._current_branch()
        if branch is not None and branch.run is message.run:
            await self.conversation.show(message.events)
        now = time.monotonic()
        if now - self._status_at >= 0.2:  # the status line need not repaint per batch
            self._status_at = now
            self._refresh_status()

    def on_run_settled(self, message: RunSettled) -> None:
        run = message.run
        self._driving.discard(run)
        self._stopping.discard(run)
        self.session.close_retired(self._driving)
        if message.error:
            self.notify(message.error, severity="error", timeout=15)
        if run in self._resume_after_settle and not run.finished:
            self._resume_after_settle.discard(run)
            run.resume()
            self._start_drive(run)
        self._refresh_status()

    # -- helpers -------------------------------------------------------------------------------
    def _current_branch(self) -> Branch | None:
        return self.session.branch

    def _current_run(self) -> Run | None:
        return self.session.run

    def _refresh_status(self) -> None:
        branch = self._current_branch()
        f = self.facts
        if branch is not None:
            run = branch.run
            trace = run.trace if run else branch.trace
            f.branch = f"branch {self.current + 1}/{len(self.branches)}" if self.current is not None else ""
            if run is not None:  # every figure of this branch's run, none left from another branch
                f.model = visible(run.backend.name)
                f.tokens = run.tokens_generated
                f.tool_calls, f.rounds = run.state.calls_spent, run.state.rounds_spent
                f.max_tool_calls, f.max_rounds = run.policy.max_tool_calls, run.policy.before_stop_rounds
                if run.finished:  # the figures the trace closed with (a shared model decodes other runs since)
                    f.tokens_per_s = run.trace.stats.get("decode_tokens_per_s")
                    f.elapsed_s = run.trace.stats.get("elapsed_s", run.elapsed_s)
                else:
                    f.tokens_per_s, f.elapsed_s = run.tokens_per_s, run.elapsed_s
                if run in self._stopping and not run.finished:
                    f.state = "stopping…"
                elif run in self._driving and run.status == "running":
                    prefill = run.prefill
                    f.state = f"reading the prompt {prefill[0]:,} / {prefill[1]:,} tokens" if prefill else "streaming"
                else:
                    f.state = ended(run.trace) if run.finished else run.status
            else:
                s, policy = trace.stats, trace.meta.get("policy", {})
                f.state = f"opened · {ended(trace) if trace.status == 'finished' else trace.status}"
                written_by = visible(str(trace.meta.get("model", "?")))
                loaded = visible(self.reasoner.backend.name) if self.reasoner is not None else "no model loaded"
                f.model = written_by if written_by == loaded else f"{written_by} (new runs: {loaded})"
                f.max_tool_calls = policy.get("max_tool_calls", f.max_tool_calls)
                f.max_rounds = policy.get("before_stop_rounds", f.max_rounds)
                if "tokens_generated" in s:  # the figures the run closed with
                    f.tokens, f.tool_calls = s["tokens_generated"], s.get("tool_calls", 0)
                    f.rounds = s.get("hint_rounds", 0)
                    f.tokens_per_s, f.elapsed_s = s.get("decode_tokens_per_s"), s.get("elapsed_s")
                else:  # a run cut off (a killed terminal) closed with none: what its text says
                    f.tool_calls, f.rounds = spent(trace)
                    if branch.counted_tokens is None and self.reasoner is not None and written_by == loaded:
                        branch.counted_tokens = counted_here(self.reasoner.backend, model_text(trace))
                    f.tokens, f.tokens_per_s, f.elapsed_s = branch.counted_tokens, None, None
        tally = self.session.tally()
        if tally is not None:
            groups = " · ".join(f"{visible(g.answer)} ×{g.size}" for g in tally.groups[:3]) or "no answer yet"
            running = sum(1 for b in self.branches if b.samples and b.run is not None and not b.run.finished)
            f.vote = f"vote {groups}" + (f" · {running} running" if running else "")
        else:
            f.vote = ""
        for line in self.query(StatusLine):  # none while the app shuts down
            line.show_facts(f)

    def _engine_ready(self) -> bool:
        if self.reasoner is None or self._loading:
            self.notify("The model is still loading…" if self.load_engine else "No model is loaded.", timeout=3)
            return False
        return True

    # -- actions -------------------------------------------------------------------------------
    def action_start(self) -> None:
        problem = self.editor.text
        if not problem.strip():
            self.notify("Type a problem first (or Ctrl+B for a benchmark problem).", severity="warning")
            return
        if self._loading:
            self._start_when_ready = True
            self.notify("The model is still loading; the run starts when it is ready.", timeout=3)
            return
        if self.reasoner is None:
            self.notify("No model is loaded: pick one in the settings (F2).", severity="warning", timeout=10)
            return
        self._end_runs()  # a new problem: every run of the old one ends
        try:
            runs = self.session.start(problem)
        except StartTuiError as exc:
            self.notify(str(exc), severity="error")
            return
        self._shown = {}
        self.conversation.focus()
        for run in runs:
            self._start_drive(run)  # K samples stream together, each on its own lane

    def action_new_problem(self) -> None:
        """To the problem field with its text selected: what is typed replaces it (the runs go on)."""
        self.editor.focus()
        self.editor.select_all()

    def _end_runs(self, branches: list[Branch] | None = None) -> None:
        """Stop every run of the problem on screen, or of `branches` (each is autosaved as it ends)."""
        for branch in self.branches if branches is None else branches:
            if branch.run is not None and not branch.run.finished:
                branch.run.stop()
                self._start_drive(branch.run)

    def action_stop(self) -> None:
        run = self._current_run()
        if run is None or run.finished:
            return
        run.stop()
        self._stopping.add(run)
        self._refresh_status()
        if run not in self._driving:
            self._start_drive(run)  # a paused run finishes on its next step

    def action_pause(self) -> None:
        run = self._current_run()
        if run is None or run.finished:
            return
        if run.status == "paused" and run not in self._driving:
            run.resume()
            self._start_drive(run)
        else:
            run.pause()

    def action_hint(self) -> None:
        run = self._current_run()
        if run is None or run.finished or self.reasoner is None:
            self.notify("A hint goes into a running or paused run; start one with Ctrl+R.", timeout=3)
            return
        run.pause()

        def inject(text: str | None) -> None:
            if text:
                run.inject_hint(text)
                run.resume()
                self._start_drive(run)

        self.push_screen(HintScreen(self.reasoner.library, self.reasoner.policy.domain), inject)

    def action_branch(self) -> None:
        branch = self._current_branch()
        if branch is None or not self._engine_ready():
            return
        if branch.run is not None and branch.run in self._driving:
            branch.run.pause()
        segments = self.conversation.segments
        labels = [f"{i + 1:>3}. {segment_preview(s)}" for i, s in enumerate(segments)]
        in_view = self.conversation.segment_in_view()

        reasoner = self.reasoner
        assert reasoner is not None
        policy = reasoner.policy

        def chosen(index: int | None) -> None:
            if index is None:
                return
            offset = segments[index].end_offset
            kept = sum(1 for s in segments[: index + 1] if isinstance(s, ExecutionItem) and s.status != "not run")
            inherits = (
                f"The branch keeps the text up to here and its notebook ({kept} call(s) rerun to rebuild it), "
                f"with a fresh budget: {policy.max_tool_calls} tool calls, {policy.before_stop_rounds} hint round(s)."
            )
            self.push_screen(
                HintScreen(reasoner.library, policy.domain, "Hint to continue the branch with", note=inherits),
                lambda text: self._branch_from(offset, text),
            )

        title = "Branch after which segment? (the one in view is selected)"
        self.push_screen(ChooseScreen(title, labels, highlight=in_view), chosen)

    def _branch_from(self, offset: int, hint: str | None) -> None:
        try:
            run = self.session.branch_from(offset, hint)
        except StartTuiError as exc:
            self.notify(str(exc), severity="error")
            return
        self._start_drive(run)

    def action_branches(self) -> None:
        if not self.branches:
            return
        labels = self.session.labels()

        self.push_screen(ChooseScreen("View branch", labels, highlight=self.current), self._view_branch)

    async def _view_branch(self, index: int | None) -> None:
        """Show branch `index`; a streaming one goes on streaming into the view."""
        if index is None or index == self.current or not 0 <= index < len(self.branches):
            return
        target = self.branches[index]
        self.session.current = index
        if target.run is not None:  # what the UI thread received; what arrives later is appended
            await self.conversation.clear()
            await self.conversation.show(self._shown.get(target.run, []))
        else:
            await self.conversation.show_trace(target.record)
        self._refresh_status()

    async def action_next_branch(self) -> None:
        if self.branches and self.current is not None:
            await self._view_branch((self.current + 1) % len(self.branches))

    async def action_previous_branch(self) -> None:
        if self.branches and self.current is not None:
            await self._view_branch((self.current - 1) % len(self.branches))

    def action_toggle_thinking(self) -> None:
        self.conversation.toggle_thinking()

    # -- search in the trace ---------------------------------------------------------------------
    @property
    def search_bar(self) -> SearchBar:
        return self.query_one(SearchBar)

    def action_search(self) -> None:
        self.search_bar.open()

    async def action_next_match(self) -> None:
        await self._step_match(1)

    async def action_previous_match(self) -> None:
        await self._step_match(-1)

    async def _step_match(self, step: int) -> None:
        conversation = self.conversation
        if await conversation.next_match(step) is None:
            self.notify("No match; press / to find text in the trace.", timeout=3)
        self.search_bar.show_position(*conversation.match_position)

    def on_search_bar_changed(self, message: SearchBar.Changed) -> None:
        found = self.conversation.search(message.term)
        self.search_bar.show_position(0, found)

    async def on_search_bar_step(self, message: SearchBar.Step) -> None:
        await self._step_match(message.step)
        self.conversation.focus()  # the bar stays open with the count; n and N step on from here

    def on_search_bar_closed(self, message: SearchBar.Closed) -> None:
        self.conversation.search("")
        self.conversation.focus()

    def action_save(self) -> None:
        if not self.branches:
            self.notify("Nothing to save yet.", timeout=3)
            return
        default = str(self._save_folder() / f"start-tui-{self.session.traces()[0].id}.jsonl")  # named in full

        def save(path: str | None) -> None:
            if path:
                try:
                    written = self.session.save(_with_folder(path))
                except StartTuiError as exc:
                    self.notify(str(exc), severity="error")
                    return
                self.notify(f"Saved {len(self.branches)} branch(es) to {written}.")

        self.push_screen(PromptScreen("Save all branches as trace JSONL", default), save)

    def action_export(self) -> None:
        branch = self._current_branch()
        if branch is None:
            return
        trace = branch.record

        def export(path: str | None) -> None:
            if not path:
                return
            try:
                written = self.session.export(_with_folder(path))
            except StartTuiError as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"Exported to {written}.")

        self.push_screen(
            PromptScreen("Export this branch as Markdown", str(self._save_folder() / f"start-tui-{trace.id}.md")),
            export,
        )

    def _save_folder(self) -> Path:
        """Where save and export offer to write: the save_dir setting, else the launch folder."""
        return Path(self.settings.save_dir).expanduser() if self.settings.save_dir else Path.cwd()

    def action_open(self) -> None:
        def opened(path: str | None) -> None:
            if path:
                self.run_worker(self._open_traces(Path(path).expanduser()))

        self.push_screen(PromptScreen("Open a trace file (JSONL)", str(sessions_dir()) + "/"), opened)

    def action_pick_model(self) -> None:
        s = self.settings
        current = s.model or (DEFAULT_MODEL if s.backend == "llama" else "")
        recent = [str(r) for r in load_ui_state().get("recent_models", []) if isinstance(r, str)]
        server = s.base_url if s.backend == "openai" else None

        def chosen(choice: ModelChoice | None) -> None:
            if choice is not None and (choice.backend, choice.model) != (s.backend, s.model):
                # an adapter belongs to the model it was trained on
                self.apply_settings(replace(s, backend=choice.backend, model=choice.model, adapter=None))

        self.push_screen(ModelScreen(current, recent, Path.cwd(), server), chosen)

    def action_sessions(self) -> None:
        running = any(b.run is not None and not b.run.finished for b in self.branches)
        current = self.session.session_file

        def chosen(path: Path | None) -> None:
            if path is not None and path != current:
                self.run_worker(self._open_traces(path))

        self.push_screen(SessionsScreen(sessions_dir(), current, current if running else None), chosen)

    async def _open_traces(self, path: Path) -> None:
        left = list(self.branches)
        try:
            traces = self.session.open(path)
        except StartTuiError as exc:
            self.notify(str(exc), severity="error", timeout=15)
            return
        self._end_runs(left)  # what streams on the problem left behind would go on out of sight
        self.editor.text = traces[-1].problem
        await self.conversation.show_trace(traces[-1])
        self._refresh_status()
        if traces[-1].status == "incomplete":
            self.notify("This run was cut off; branch (b) from its last segment to continue it.", timeout=8)

    def action_copy_answer(self) -> None:
        answer = self.conversation.answer
        if answer is None:
            self.notify("No answer yet.", timeout=3)
            return
        how = self._copy(answer)
        self.notify(f"Copied the answer to {how}: {visible(answer)}", timeout=6)

    def action_copy_code(self) -> None:
        panel = (
            next((w for w in self.focused.ancestors_with_self if isinstance(w, ExecutionPanel)), None)
            if (self.focused)
            else None
        )
        block = panel.item if panel is not None else self.conversation.last_execution
        if block is None:
            self.notify("No code block yet.", timeout=3)
            return
        how = self._copy(block.code)
        self.notify(f"Copied code block {block.index or ''} to {how}.", timeout=6)

    def _copy(self, text: str) -> str:
        """Copy `text`; says where it went (the system clipboard, or the terminal's sequence, which tmux
        drops unless `set-clipboard on`)."""
        how = system_copy(text)
        if how is None:
            self.copy_to_clipboard(text)
            how = "the terminal's clipboard (OSC 52; under tmux it needs set-clipboard on)"
        return how

    def action_load_file(self) -> None:
        def load(path: str | None) -> None:
            if not path:
                return
            try:
                self.editor.text = Path(path).expanduser().read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.notify(f"{path} cannot be read ({exc}).", severity="error")

        self.push_screen(PromptScreen("Read the problem from a file", ""), load)

    def action_pick_benchmark(self) -> None:
        names = available_benchmarks()
        if not names:
            self.notify("No benchmark folder found; set START_TUI_BENCHMARKS.", severity="warning")
            return

        def pick_set(index: int | None) -> None:
            if index is None:
                return
            try:
                loaded = load_benchmark(names[index])
            except StartTuiError as exc:
                self.notify(str(exc), severity="error")
                return
            rows = [f"{p.id}: {' '.join(p.problem.split())[:90]}" for p in loaded.problems]

            def pick_row(row: int | None) -> None:
                if row is not None:
                    self.editor.text = loaded.problems[row].problem
                    self.editor.focus()

            self.push_screen(ChooseScreen(f"{names[index]}: pick a problem", rows, searchable=True), pick_row)

        self.push_screen(ChooseScreen("Benchmark", names), pick_set)

    def action_settings(self) -> None:
        def saved(settings: EngineOptions | None) -> None:
            if settings is not None:
                self.apply_settings(settings)

        self.push_screen(SettingsScreen(self.settings), saved)

    def apply_settings(self, settings: EngineOptions) -> None:
        """Rebuild only what new settings change (the model, the sandbox, or the reasoner), then save
        them: settings that do not work are neither used nor saved, and what ran before stays."""
        try:
            check_app_options(settings)
        except StartTuiError as exc:
            self.notify(f"{exc} The settings are not saved.", severity="error", timeout=30)
            return
        change = self.session.change_for(settings)  # "nothing": an option of the app alone, saved below
        if change == "model" or (change != "nothing" and self.reasoner is None):
            self._reload(settings, save=True)
            return
        if change == "sandbox" and self.reasoner is not None:
            self._reload(settings, backend=self.reasoner.backend, save=True)
            return
        if change == "reasoner":
            try:
                policy = self.session.rebuild_reasoner(settings).policy
            except StartTuiError as exc:
                self.notify(f"{exc} The settings are not saved.", severity="error", timeout=30)
                return
            self.facts.max_tool_calls, self.facts.max_rounds = policy.max_tool_calls, policy.before_stop_rounds
            self._refresh_status()
        self.session.settings = settings
        self._save_settings(settings)

    def _save_settings(self, settings: EngineOptions) -> None:
        try:
            path = save_settings(settings)
        except OSError as exc:
            self.notify(f"The settings cannot be saved ({exc.strerror}).", severity="error", timeout=30)
        else:
            self.notify(f"Settings saved to {path}.", timeout=3)

    def action_help(self) -> None:
        keys = [(key_names(b.key), b.description) for b in self.BINDINGS if isinstance(b, Binding)]
        self.push_screen(HelpScreen(keys))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.action not in ("quit",):
                yield SystemCommand(
                    binding.description, f"key {key_names(binding.key)}", getattr(self, f"action_{binding.action}")
                )

    async def action_quit(self) -> None:
        for run in list(self._driving):
            run.stop()
        self.exit()

    def on_unmount(self) -> None:
        self.collector.release_all()  # its timer ends with the app
        self.session.close()
