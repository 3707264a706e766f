"""Messages from the engine thread to the app: batches of events, and the end of a drive."""

from __future__ import annotations

from textual.message import Message

from start_tui.engine import Event, Reasoner, Run
from start_tui.options import EngineOptions
from start_tui.sandbox import Sandbox


class EngineEvents(Message):
    """A batch of events of one run (text deltas are batched; other events come at once)."""

    def __init__(self, run: Run, events: list[Event]) -> None:
        super().__init__()
        self.run = run
        self.events = events


class RunSettled(Message):
    """The drive of a run returned: it paused, finished, or failed with `error`."""

    def __init__(self, run: Run, error: str | None = None) -> None:
        super().__init__()
        self.run = run
        self.error = error


class EngineReady(Message):
    """A new engine was opened in a worker thread for `settings`; the UI thread swaps it in."""

    def __init__(self, reasoner: Reasoner, sandbox: Sandbox, settings: EngineOptions, save: bool) -> None:
        super().__init__()
        self.reasoner = reasoner
        self.sandbox = sandbox
        self.settings = settings
        self.save = save
        """The settings were changed on the settings screen: saved once they work."""


class EngineFailed(Message):
    def __init__(self, message: str, save: bool) -> None:
        super().__init__()
        self.message = message
        self.save = save
