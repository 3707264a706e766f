"""A trace as Markdown, for reading and sharing: thinking as text, hints as quotes, code and output as blocks."""

from __future__ import annotations

from start_tui.engine.events import CodeFinished, CodeOpened, HintInserted, TextDelta
from start_tui.engine.hints import split_at_fence
from start_tui.engine.trace import Trace, trace_events
from start_tui.mathtext import markdown_math_for_export


def trace_to_markdown(trace: Trace) -> str:
    meta = trace.meta
    lines = [f"# {trace.problem.strip().splitlines()[0][:80] if trace.problem.strip() else 'Problem'}", ""]
    lines += ["## Problem", "", trace.problem.strip(), ""]
    lines += [
        "## Run",
        "",
        f"- model: {meta.get('model', '?')}, profile: {meta.get('profile', '?')}",
        f"- status: {trace.status} ({meta.get('finish_reason', '')}), trace id: {trace.id}",
    ]
    if "parent" in meta:
        lines.append(f"- branched from {meta['parent']['trace_id']} at character {meta['parent']['offset']}")
    stats = trace.stats
    if stats:
        lines.append(
            f"- {stats.get('tokens_generated')} tokens, {stats.get('tool_calls')} tool calls, "
            f"{stats.get('elapsed_s')} s"
        )
    lines += ["", "## Reasoning", ""]
    body: list[str] = []
    for event in trace_events(trace):
        if isinstance(event, TextDelta):
            body.append(event.text)
        elif isinstance(event, HintInserted):
            who = "you" if event.source == "user" else f"policy, {event.trigger}"
            said, _ = split_at_fence(event.text)
            body.append(f"\n\n> **Hint ({who}):** {said.strip()}\n\n")
        elif isinstance(event, CodeOpened):
            body.append(f"\n```{event.language}\n{event.template}")
        elif isinstance(event, CodeFinished):
            # the code block closes before its output block opens
            body.append("```" + event.output_text)
            body += [f"\n![figure {f['number']}]({f['path']})\n" for f in event.figures if f.get("path")]
    lines.append(markdown_math_for_export("".join(body).strip()))
    if trace.answer is not None:
        answer = f"${trace.answer}$" if "\\" in trace.answer or "^" in trace.answer else trace.answer
        lines += ["", f"**Final answer:** {answer}"]
    return "\n".join(lines) + "\n"
