"""The engine: the Hint-infer loop, its events and traces, hints, model profiles, answer extraction.

It knows nothing of the TUI, the CLI or training; they consume its events.
"""

from start_tui.engine.answer import extract_answer, last_boxed
from start_tui.engine.events import (
    AnswerFound,
    CodeFinished,
    CodeStarted,
    Error,
    Event,
    Finished,
    HintInserted,
    Paused,
    Span,
    Started,
    TextDelta,
)
from start_tui.engine.hints import Hint, HintLibrary, HintPolicy
from start_tui.engine.profiles import PROFILES, ModelProfile, get_profile, select_profile
from start_tui.engine.reasoner import Reasoner, Run, RunConfig, format_output
from start_tui.engine.trace import Trace, TraceWriter, load_traces

__all__ = [
    "PROFILES",
    "AnswerFound",
    "CodeFinished",
    "CodeStarted",
    "Error",
    "Event",
    "Finished",
    "Hint",
    "HintInserted",
    "HintLibrary",
    "HintPolicy",
    "ModelProfile",
    "Paused",
    "Reasoner",
    "Run",
    "RunConfig",
    "Span",
    "Started",
    "TextDelta",
    "Trace",
    "TraceWriter",
    "extract_answer",
    "format_output",
    "get_profile",
    "last_boxed",
    "load_traces",
    "select_profile",
]
