"""The app's session model, without widgets: the engine, the runs and their branches, the files.

`StartApp` keeps the widgets and the keys and asks this object for everything else, so that the
logic can be tested fast and without a terminal. Threading rule: `open_engine` blocks (it loads a
model) and belongs in a worker thread; every other method is called on the UI thread, which is also
the only thread that swaps an engine in (`swap_engine`) and closes what it replaced.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from start_tui.backends import Backend, Lanes, open_lanes
from start_tui.backends.embedded import Progress
from start_tui.engine import Reasoner, Run, Trace, load_traces
from start_tui.engine.samples import derive_samples
from start_tui.engine.trace import save_traces
from start_tui.engine.vote import Vote, vote
from start_tui.errors import StartTuiError
from start_tui.export import trace_to_markdown
from start_tui.options import EngineOptions, check_options, make_reasoner, open_model, open_sandbox
from start_tui.sandbox import Sandbox
from start_tui.visible import visible

Closable = Backend | Sandbox | Lanes

Change = Literal["model", "sandbox", "reasoner", "nothing"]
"""What a change of settings needs: a new model (and sandbox), a new sandbox, a new reasoner, or nothing."""


@dataclass
class Branch:
    """One line of reasoning: a live run, or a trace opened from a file."""

    trace: Trace
    run: Run | None = None
    parent: int | None = None
    label: str = ""
    started: float = field(default_factory=time.monotonic)
    samples: str | None = None
    """The set of parallel samples this branch is one of (its id)."""
    counted_tokens: int | None = None
    """The tokens of an opened trace that closed with no figures, counted by the model that wrote it."""

    @property
    def record(self) -> Trace:
        """The trace as it stands (a live run's grows while it streams)."""
        return self.run.trace if self.run is not None else self.trace


def open_engine(
    settings: EngineOptions, backend: Backend | None = None, progress: Progress | None = None
) -> tuple[Reasoner, Sandbox]:
    """A reasoner and a started sandbox for `settings`, on `backend` or on a model opened here (`progress`
    hears how far an embedded model's first assembly is).

    Blocks while a model loads: call it from a worker thread. What it opened is closed again when it
    fails, so a failed change of settings leaks nothing.
    """
    opened: Backend | None = None
    sandbox: Sandbox | None = None
    try:
        library = check_options(settings)
        if backend is None:
            backend = opened = open_model(settings, progress or (lambda done, total: None))
        sandbox = open_sandbox(settings)
        sandbox.start()
        return make_reasoner(settings, backend, sandbox, library), sandbox
    except BaseException:
        if sandbox is not None:
            sandbox.close()
        if opened is not None:
            opened.close()
        raise


def spent(trace: Trace) -> tuple[int, int]:
    """The tool calls a trace ran and the before-stop hint rounds it took, read from its spans."""
    calls = sum(1 for s in trace.spans if s.kind == "output" and s.meta.get("executed", True))
    rounds = sum(1 for s in trace.spans if s.kind == "hint" and s.meta.get("trigger") == "before_stop")
    return calls, rounds


def model_text(trace: Trace) -> str:
    """What the model wrote in a trace: its thinking and its code, without prompt, hints or outputs."""
    return "".join(s.text for s in trace.spans if s.kind in ("model", "code"))


def lineage(trace: Trace, ids: dict[str, int]) -> str:
    """What a trace is among the branches whose trace ids `ids` numbers (from 0)."""
    samples = trace.meta.get("samples")
    if isinstance(samples, dict) and "index" in samples:
        return f"sample {samples['index'] + 1}/{samples.get('of', '?')}"
    parent = trace.meta.get("parent")
    if not isinstance(parent, dict):
        return "first run"
    where = ids.get(parent.get("trace_id", ""))
    offset = int(parent.get("offset", 0))
    said = f"branch of {where + 1}" if where is not None else f"branch of trace {parent.get('trace_id')}"
    said += f" at character {offset:,}"
    pos = 0
    for span in trace.spans:  # the hint typed at the branch point, if one was
        if pos >= offset and span.kind == "hint":
            if span.meta.get("source") == "user":
                text = " ".join(span.text.split("```")[0].split())
                said += f" · hint \u201c{visible(text[:48])}{'…' if len(text) > 48 else ''}\u201d"
            break
        pos += len(span.text)
    return said


class SolveSession:
    """The engine, the branches of the problem being solved, autosave, and the trace files."""

    def __init__(self, settings: EngineOptions, sessions_dir: Path) -> None:
        self.settings = settings
        self.sessions_dir = sessions_dir
        self.reasoner: Reasoner | None = None
        self.sandbox: Sandbox | None = None
        self.branches: list[Branch] = []
        self.current: int | None = None
        self.session_file: Path | None = None
        """Where the runs of this problem are autosaved as they stream."""
        self.lanes: Lanes | None = None
        """The lanes of parallel samples (opened on the model at the first run with samples > 1)."""
        self.retired: list[Closable] = []
        """Backends, sandboxes and lanes replaced by a change of settings, closed once no run uses them."""
        self._tally: tuple[tuple[str | None, ...], Vote] | None = None

    # -- the engine ------------------------------------------------------------------------------
    def change_for(self, settings: EngineOptions) -> Change:
        rebuilds = self.settings.rebuilds(settings)
        if rebuilds == {"nothing"}:  # options of the app alone: with or without a model
            return "nothing"
        if self.reasoner is None:
            return "model"
        for change in ("model", "sandbox", "reasoner"):
            if change in rebuilds:
                return change
        return "nothing"

    def swap_engine(self, reasoner: Reasoner, sandbox: Sandbox) -> list[Run]:
        """Use a new engine; returns the runs that used what it replaces (they are stopped: drive
        them to their end, then call `close_retired`)."""
        old_reasoner, old_sandbox = self.reasoner, self.sandbox
        self.reasoner, self.sandbox = reasoner, sandbox
        replaced: list[Closable] = []
        if old_reasoner is not None and old_reasoner.backend is not reasoner.backend:
            if self.lanes is not None:  # lanes on the old model go before it
                replaced.append(self.lanes)
                self.lanes = None
            replaced.append(old_reasoner.backend)
        if old_sandbox is not None and old_sandbox is not sandbox:
            replaced.append(old_sandbox)
        stopped: list[Run] = []
        for thing in replaced:
            self.retired.append(thing)
            for branch in self.branches:
                run = branch.run
                if run is not None and not run.finished and self._uses(run, thing) and run not in stopped:
                    run.stop()
                    stopped.append(run)
        return stopped

    def rebuild_reasoner(self, settings: EngineOptions) -> Reasoner:
        """A new reasoner on the same model and sandbox; runs already started keep theirs."""
        if self.reasoner is None or self.sandbox is None:
            raise StartTuiError("No model is loaded.")
        library = check_options(settings)
        self.reasoner = make_reasoner(settings, self.reasoner.backend, self.sandbox, library)
        return self.reasoner

    @staticmethod
    def _uses(run: Run, thing: Closable) -> bool:
        lanes = getattr(thing, "lanes", None)
        if isinstance(lanes, list) and any(run.backend is lane for lane in lanes):
            return True
        return run.backend is thing or run.reasoner.sandbox is thing

    def close_retired(self, driving: set[Run]) -> None:
        """Close each replaced backend or sandbox that no run in `driving` still uses."""
        for thing in list(self.retired):
            if not any(self._uses(run, thing) for run in driving):
                self.retired.remove(thing)
                thing.close()

    def close(self) -> None:
        """Stop every run and close the sandboxes and the replaced backends (the app is ending)."""
        for branch in self.branches:
            if branch.run is not None:
                branch.run.stop()
        if self.lanes is not None:
            self.lanes.close()
            self.lanes = None
        if self.sandbox is not None:
            self.sandbox.close()
        for thing in self.retired:
            thing.close()
        self.retired = []

    # -- runs and branches ----------------------------------------------------------------------
    @property
    def branch(self) -> Branch | None:
        return self.branches[self.current] if self.current is not None else None

    @property
    def run(self) -> Run | None:
        branch = self.branch
        return branch.run if branch else None

    def traces(self) -> list[Trace]:
        return [b.record for b in self.branches]

    def new_session_file(self, problem: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", problem.lower())[:40].strip("-") or "problem"
        return self.sessions_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}.jsonl"

    def start(self, problem: str) -> list[Run]:
        """A new problem: its first run (or its K samples, decoded together) become the branches,
        autosaved to a new session file."""
        if self.reasoner is None or self.sandbox is None:
            raise StartTuiError("No model is loaded.")
        session_file = self.new_session_file(problem)
        k = self.settings.samples
        if k > 1:
            reasoners = derive_samples(
                make_reasoner(self.settings, self._lanes(k)[0], self.sandbox, self.reasoner.library),
                self._lanes(k),
                diverse=self.settings.diverse_hints,
                temperature=self.settings.temperature,
                top_p=self.settings.top_p,
            )
            set_id = uuid.uuid4().hex[:12]
            runs = [
                r.start(problem, trace_path=session_file, meta={"samples": {"set": set_id, "index": i, "of": k}})
                for i, r in enumerate(reasoners)
            ]
            self.branches = [
                Branch(run.trace, run, label=f"sample {i + 1}/{k}", samples=set_id) for i, run in enumerate(runs)
            ]
        else:
            runs = [self.reasoner.start(problem, trace_path=session_file)]
            self.branches = [Branch(runs[0].trace, runs[0], label="main")]
        self.session_file = session_file
        self.current = 0
        self._tally = None
        return runs

    def _lanes(self, k: int) -> list[Backend]:
        """K lanes on the loaded model; lanes of another K are retired (closed once their runs end)."""
        assert self.reasoner is not None
        if self.lanes is None or len(self.lanes.lanes) != k:
            if self.lanes is not None:
                self.retired.append(self.lanes)
            self.lanes = open_lanes(self.reasoner.backend, k)
        return self.lanes.lanes

    def tally(self) -> Vote | None:
        """The vote over the answers the samples of the current problem have found so far."""
        current = self.branch
        sets = [b.samples for b in self.branches if b.samples]
        if not sets:
            return None
        wanted = current.samples if current is not None and current.samples else sets[0]
        answers = tuple(b.record.answer for b in self.branches if b.samples == wanted)
        if self._tally is None or self._tally[0] != answers:
            self._tally = (answers, vote(list(answers)))
        return self._tally[1]

    def branch_from(self, offset: int, hint: str | None = None) -> Run:
        """A new branch of the current one from `offset`, continued with `hint` when given."""
        branch = self.branch
        if branch is None or self.reasoner is None:
            raise StartTuiError("There is no run to branch from.")
        trace = branch.record
        if self.session_file is None:
            self.session_file = self.new_session_file(trace.problem)
        reasoner = self.reasoner
        if branch.run is not None and branch.run.backend is not reasoner.backend:
            # a sample's lane carries its own run: the branch continues on the model itself, with the sample's settings
            own = branch.run.reasoner
            reasoner = Reasoner(reasoner.backend, reasoner.sandbox, own.profile, own.policy, own.config, own.library)
        run = reasoner.branch(trace, offset, trace_path=self.session_file)
        if hint:
            run.inject_hint(hint)
        parent = self.current if self.current is not None else 0
        self.branches.append(Branch(run.trace, run, parent=parent, label=f"from {parent + 1}"))
        self.current = len(self.branches) - 1
        return run

    def labels(self) -> list[str]:
        """A line per branch: what it is (a first run, a sample, a branch of which one, where, with which
        hint), its state and answer. Read from the traces, so it is the same after save, open and resume."""
        ids = {b.record.id: i for i, b in enumerate(self.branches)}
        out = []
        for i, b in enumerate(self.branches):
            trace = b.record
            state = b.run.status if b.run else trace.status
            answer = f" · answer {visible(trace.answer)}" if trace.answer else ""
            out.append(f"{i + 1}. {lineage(trace, ids)} · {state}{answer}")
        return out

    # -- files ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Every branch as one trace per line (what `open` reads back)."""
        if not self.branches:
            raise StartTuiError("Nothing to save yet.")
        return save_traces(path, self.traces())

    def export(self, path: str | Path) -> Path:
        """The current branch as Markdown."""
        branch = self.branch
        if branch is None:
            raise StartTuiError("Nothing to export yet.")
        target = Path(path).expanduser()
        try:
            target.write_text(trace_to_markdown(branch.record), encoding="utf-8")
        except OSError as exc:
            raise StartTuiError(f"{str(target)!r} cannot be written ({exc.strerror}).") from None
        return target

    def open(self, path: Path) -> list[Trace]:
        """Every trace in a file as a branch (the last one current); later runs autosave to that file."""
        traces = load_traces(path)
        if not traces:
            raise StartTuiError(f"{path} holds no trace.")
        self.branches = [Branch(t, None, label="opened", samples=t.meta.get("samples", {}).get("set")) for t in traces]
        self.current = len(self.branches) - 1
        self.session_file = path
        return traces
