"""`start-tui train inspect`: what an SFT stage would learn from a trace set, token by token.

Each token of the first examples is shown as the stage labels it: learned, or masked as the prompt,
as interpreter output or as a hint's sentence (the code fence a hint opens is always learned). On a
terminal the kinds are colours; in a pipe each masked run is marked in brackets, so that the output
of a recipe can be read, diffed and pasted into an issue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from start_tui.engine import Trace
from start_tui.visible import visible
from training.dataset import IGNORE, encode_with_offsets, read_trace_records

KINDS = ("learned", "prompt", "output", "hint", "special")
STYLES = {"learned": "", "prompt": "dim", "output": "cyan dim", "hint": "yellow strike", "special": "magenta dim"}
NAMES = {
    "learned": "learned",
    "prompt": "prompt (masked)",
    "output": "tool output (masked)",
    "hint": "hint sentence (masked)",
    "special": "BOS/EOS not learned",
}


def token_kinds(trace: Trace, tokenizer: Any, mask_hints: bool) -> Iterator[tuple[str, str]]:
    """(kind, text) for every token of the encoded trace, in order; the texts join into the trace (with
    the token string of an added BOS or EOS)."""
    ids, labels, offsets = encode_with_offsets(trace, tokenizer, mask_hints)
    kind_at: list[str] = []
    for span, (start, end) in zip(trace.spans, trace.offsets(), strict=True):
        kind_at += [span.kind] * (end - start)
    text = trace.text
    # shown from where the last token ended: byte-level BPE gives each token of one character the whole
    # character (shown once), and trimmed offsets leave a token's leading space out (shown with it)
    shown_to = 0
    for token, label, (start, end) in zip(ids, labels, offsets, strict=True):
        if end > start:
            piece, shown_to = text[shown_to:end], max(shown_to, end)
        else:
            piece = str(tokenizer.convert_ids_to_tokens(token))
        if label != IGNORE:
            yield "learned", piece
        elif end <= start:
            yield "special", piece
        else:
            kind = kind_at[start]
            yield (kind if kind in ("prompt", "output", "hint") else "learned"), piece


def runs(pieces: Iterator[tuple[str, str]]) -> list[tuple[str, str]]:
    """Neighbouring tokens of one kind joined."""
    out: list[tuple[str, str]] = []
    for kind, piece in pieces:
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + piece)
        else:
            out.append((kind, piece))
    return out


def render(trace: Trace, tokenizer: Any, mask_hints: bool, colour: bool) -> tuple[Text, Counter[str]]:
    """The trace as the stage labels it, and the tokens of each kind."""
    counts: Counter[str] = Counter()
    shown = Text()
    for kind, piece in runs(_counted(token_kinds(trace, tokenizer, mask_hints), counts)):
        piece = visible(piece)
        if colour or kind == "learned":
            shown.append(piece, style=STYLES[kind])
        else:
            shown.append(f"\u27e6{kind}: {piece}\u27e7")
    return shown, counts


def _counted(pieces: Iterator[tuple[str, str]], counts: Counter[str]) -> Iterator[tuple[str, str]]:
    for kind, piece in pieces:
        counts[kind] += 1
        yield kind, piece


def inspect(data: Path, tokenizer: Any, mask_hints: bool, n: int, console: Console) -> int:
    """Print the first `n` traces of `data` as the stage would learn them; how many were shown."""
    colour = console.color_system is not None
    legend = Text("tokens: ")
    for i, kind in enumerate(KINDS):
        label = NAMES[kind]
        legend.append(label, style=STYLES[kind] or "bold") if colour else legend.append(label)
        legend.append(" · " if i < len(KINDS) - 1 else "")
    console.print(legend)
    console.print(f"hint sentences {'masked' if mask_hints else 'learned'} (mask_hints = {str(mask_hints).lower()})")
    shown = 0
    for number, trace in read_trace_records(data):
        if shown == n:
            break
        shown += 1
        text, counts = render(trace, tokenizer, mask_hints, colour)
        total = sum(counts.values())
        summary = " · ".join(f"{NAMES[k]} {counts[k]}" for k in KINDS if counts[k])
        problem = " ".join(trace.problem.split())[:70]
        console.rule(Text(f"{data.name}:{number} · {visible(trace.id)} · {total} tokens"), style="dim")
        console.print(Text(f"{visible(problem)}\n{summary}\n", style="bold"))
        console.print(text, soft_wrap=True)
    if shown == 0:
        console.print(f"{data} holds no trace.", markup=False)
    return shown
