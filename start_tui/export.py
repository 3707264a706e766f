"""A trace as Markdown, for reading and sharing: thinking as text, hints as quotes, code and output as blocks."""

from __future__ import annotations

from start_tui.engine.hints import CODE_FENCE
from start_tui.engine.scanner import FENCE_OPENERS
from start_tui.engine.trace import Trace


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
    spans = [s for s in trace.spans if s.kind != "prompt"]
    for i, span in enumerate(spans):
        text = span.text
        if span.kind == "model":
            if i > 0 and spans[i - 1].kind == "code" and text.startswith("```"):
                text = text[3:]
            opener = next((f for f in FENCE_OPENERS if text.endswith(f)), "")
            body.append(text[: len(text) - len(opener)])
        elif span.kind == "hint":
            who = "you" if span.meta.get("source") == "user" else f"policy, {span.meta.get('trigger', '')}"
            shown = text[: text.rfind(CODE_FENCE)] if CODE_FENCE in text else text
            template = text[text.rfind(CODE_FENCE) + len(CODE_FENCE) :] if CODE_FENCE in text else ""
            body.append(f"\n\n> **Hint ({who}):** {shown.strip()}\n\n")
            if span.meta.get("opens_code", True) and CODE_FENCE in text:
                body.append("```python\n" + template)
        elif span.kind == "code":
            if not (i > 0 and spans[i - 1].kind == "hint"):
                body.append("\n```python\n")
            body.append(text)
        elif span.kind == "output":
            body.append("```" + text)
    lines.append("".join(body).strip())
    if trace.answer is not None:
        lines += ["", f"**Final answer:** {trace.answer}"]
    return "\n".join(lines) + "\n"
