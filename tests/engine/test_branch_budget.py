"""A branch is a new attempt: it keeps the prefix and its notebook, and gets the tool budget afresh."""

from __future__ import annotations

from start_tui.engine import HintPolicy, Reasoner, RunConfig
from start_tui.engine.events import CodeFinished
from start_tui.sandbox import Sandbox
from tests.scripted import PROFILE, ScriptedBackend

FIRST = "Compute.\n```python\nx = 6 * 7\nprint(x)\n```\n"
ENDING = "So it is 42. Final answer: 42<|end|>"
AFTER_HINT = "print(x + 1)\n```\n"


def test_a_branch_of_a_run_that_spent_its_calls_can_still_call_the_tool(sandbox: Sandbox):
    backend = ScriptedBackend(FIRST, ENDING)
    policy = HintPolicy(enabled=False, max_tool_calls=1)
    reasoner = Reasoner(backend, sandbox, PROFILE, policy, RunConfig(max_tokens=2000))
    run = reasoner.start("What is 6 times 7?")
    list(run.events())
    assert run.state.tool_calls == 1 and run.trace.answer == "42"
    backend.replies = [AFTER_HINT, ENDING]
    branch = run.branch(run.trace.text.index("So it is"))
    branch.inject_hint("Let me check it once more.\n```python\n")
    [done] = [e for e in branch.events() if isinstance(e, CodeFinished)]
    assert done.executed and done.stdout == "43\n"  # the notebook of the prefix, and a call to spend
    assert branch.state.tool_calls == 2 and branch.state.calls_spent == 1

    backend.replies = [AFTER_HINT, ENDING]
    spent = run.branch(run.trace.text.index("So it is"), fresh_budget=False)
    spent.inject_hint("Let me check it once more.\n```python\n")
    [refused] = [e for e in spent.events() if isinstance(e, CodeFinished)]
    assert not refused.executed and "tool-call limit" in (refused.error or "")
