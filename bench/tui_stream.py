"""Stream a recorded long trace through the TUI headless: tokens/s at 8k, 32k and 128k tokens, key latency,
scroll to the top, pause to interactive panels, memory.

The trace is real model output (tests/data/sum-of-squares.jsonl, thinking, hints, code and outputs, with
a paragraph of LaTeX math added to its thinking, inline and displayed)
tiled to the token count (a panel about every 2,000 tokens) and cut into tokens with the embedded
model's tokenizer. A producer thread hands the events to the app exactly as the engine driver does
(batches of text deltas by `post_message`, other events at once) and waits for each batch to be
rendered before sending the next (what a fast model would get: the UI's own pace).

For each size: a clean pass gives tokens/s; from 32k a second pass presses `p` every 0.1 s and
takes the latency from posting the key to its action running (the key dispatch a person feels);
at the largest size the clean pass also measures the resident memory it grew by, the time from
the Home key to the first segment drawn on screen, and the time from the run settling (paused) to
an execution panel in view that folds under a keypress. Time ratios are normalized to 4x the tokens.
Clean passes run in `--repeats` rounds (3), all in one process. In a round each size gets about the
same machine time: a size runs (largest / size) times, the runs of all sizes spread evenly through
the round (8k sixteen times, 32k four, 128k once, in the middle), so that a slow spell of a shared
VM falls on every size alike. A 1-second 8k pass scatters by 10-40% here on its own. A size's time
is the median of its passes, the spread is printed (and, as medians over its passes, the full garbage
collections of a pass and its time in the collector, young collections included), and scroll to top and
pause to panels are the worst of the largest size's passes. Every pass starts from the heap a new app
process would have: what the app before it left, frozen at its mount (`gc.freeze`), is collected first.
Goals (issue 16): >= 5,000 tokens/s at 128k; both ratios <= 4.4; key latency p95 <= 30 ms and max
<= 100 ms at 32k and 128k; scroll to top and pause to panels <= 100 ms at 128k. The last line is one
JSON object with the figures.

    python bench/tui_stream.py [--tokens 8000,32000,128000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual import events
from textual.widgets._collapsible import CollapsibleTitle

from start_tui.backends.embedded import GEMMA_270M, embedded_model_path
from start_tui.backends.llama_cpp import LlamaCppBackend
from start_tui.engine import Event, Finished, TextDelta, Trace, load_traces
from start_tui.engine.events import Paused, Span, Started
from start_tui.engine.trace import trace_events
from start_tui.tui.app import BATCH_TOKENS, StartApp
from start_tui.tui.messages import EngineEvents, RunSettled
from start_tui.tui.session import Branch
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.segments import ExecutionPanel

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "data" / "sum-of-squares.jsonl"
MATH = (
    " So \\( \\sum_{i=1}^{50} i^2 = \\frac{50 \\cdot 51 \\cdot 101}{6} \\), that is\n"
    "\\[ 42925 = 5^2 \\times 17 \\times 101 \\]\nand \\( \\sqrt{42925} \\approx 207.2 \\)."
)
KEY_EVERY_S = 0.1
"""A key press this often while streaming: a 32k pass then gives ~60 latencies, enough for a p95."""


def build_events(backend: LlamaCppBackend, n_tokens: int, per_panel: int = 2000) -> tuple[list[Event], int]:
    """Events of a trace of about `n_tokens` generated tokens, text split into real tokens.

    The recorded run's spans are repeated in order; its thinking paragraphs are repeated so that a
    panel (hint or execution) comes about every `per_panel` tokens, as in a long START trace (a
    32k-token trace with a tool call every few thousand tokens), not every few dozen.
    """
    [recorded] = load_traces(RECORDED)
    body = [s for s in recorded.spans if s.kind != "prompt"]
    # the prose of the model's spans: a fence it opens is a panel of its own in a real run (the engine
    # makes it one), never text inside a thinking segment
    prose = [s.text.split("```")[0].strip() for s in body if s.kind == "model"]
    thinking = " ".join(p for p in prose if len(p) > 20)
    # and math as reasoning models write it, inline and displayed (the view renders it as Unicode)
    paragraph = (thinking or "Let me think about this.") + MATH + "\n\n"
    para_tokens = len(backend.llm.tokenize(paragraph.encode(), add_bos=False))
    spans = [Span("prompt", recorded.spans[0].text)]
    count = 0
    while count < n_tokens:
        for span in body:
            text = span.text
            if span.kind == "model" and len(text) > 20:
                text = paragraph * max(1, per_panel // (2 * para_tokens)) + text
            spans.append(Span(span.kind, text, dict(span.meta)))
            count += len(backend.llm.tokenize(text.encode(), add_bos=False))
            if count >= n_tokens:
                break
    tiled = Trace(id="bench", problem=recorded.problem, spans=spans, meta=dict(recorded.meta))
    out: list[Event] = []
    tokens = 0
    for event in trace_events(tiled):
        if isinstance(event, TextDelta):
            ids = backend.llm.tokenize(event.text.encode(), add_bos=False)
            pieces = [backend.llm.detokenize([t]).decode("utf-8", errors="replace") for t in ids]
            # keep the exact text: the last piece absorbs any byte-level difference
            pieces[-1] = event.text[len("".join(pieces[:-1])) :] if pieces else event.text
            out += [TextDelta(p, event.kind) for p in pieces if p]
            tokens += len(ids)
        elif not isinstance(event, Finished):
            out.append(event)
    return out, tokens


def batches(evts: list[Event]) -> list[list[Event]]:
    out, cur = [], []
    for e in evts:
        cur.append(e)
        if not isinstance(e, TextDelta) or len(cur) >= BATCH_TOKENS:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


class BenchApp(StartApp):
    def __init__(self) -> None:
        super().__init__(Settings(), load_engine=False)
        self.rendered = threading.Event()
        self.key_handled: list[float] = []
        self.settled = asyncio.Event()

    # Textual calls the handler of every class in the MRO: the base's runs here, once, then no more
    async def on_engine_events(self, message: EngineEvents) -> None:
        message.prevent_default()
        await super().on_engine_events(message)
        self.rendered.set()

    def on_run_settled(self, message: RunSettled) -> None:
        message.prevent_default()
        super().on_run_settled(message)
        self.settled.set()

    def action_pause(self) -> None:
        self.key_handled.append(time.perf_counter())
        super().action_pause()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Pass:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    widgets: int = 0
    rss_growth_mb: float = 0.0
    scroll_to_top_ms: float = 0.0
    pause_to_panels_ms: float = 0.0
    full_collections: int = 0
    collector_ms: float = 0.0


class CollectorCount:
    """The garbage collections during a pass (`gc.callbacks`): how many were full, and the time in all of them."""

    def __init__(self) -> None:
        self.full = 0
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.full += info["generation"] == 2

    def __enter__(self) -> CollectorCount:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out waiting for {predicate}")
        await asyncio.sleep(0.002)


async def stream(evts: list[Event], *, press_keys: bool, after: bool) -> Pass:
    app = BenchApp()
    started = evts[0]
    assert isinstance(started, Started)
    total = sum(len(s) for s in started.spans) + sum(
        len(getattr(e, "text", "") or getattr(e, "output_text", "")) for e in evts[1:]
    )
    async with app.run_test(size=(120, 40)) as pilot:
        app.session.branches = [Branch(Trace(id="bench", problem=started.problem), run=None)]
        app.session.current = 0
        conversation = app.conversation
        conversation.focus()
        await pilot.pause()
        sent_keys: list[float] = []
        done = threading.Event()

        def produce() -> None:
            next_key = time.perf_counter() + KEY_EVERY_S
            for batch in batches(evts):
                app.rendered.clear()
                app.post_message(EngineEvents(None, batch))  # type: ignore[arg-type]  # an opened-trace branch
                app.rendered.wait(30)
                if press_keys and time.perf_counter() >= next_key:
                    sent_keys.append(time.perf_counter())
                    app.post_message(events.Key("p", "p"))
                    next_key += KEY_EVERY_S
            done.set()

        rss0 = rss_mb()
        with CollectorCount() as collector:
            t0 = time.perf_counter()
            producer = threading.Thread(target=produce)
            producer.start()
            while not (done.is_set() and conversation.text_offset >= total):
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - t0
        producer.join()
        await pilot.pause()
        result = Pass(elapsed, [(h - s) * 1000 for s, h in zip(sent_keys, app.key_handled, strict=False)])
        result.widgets = len(conversation.children)
        result.full_collections, result.collector_ms = collector.full, collector.seconds * 1000
        result.rss_growth_mb = rss_mb() - rss0
        if after:
            result.pause_to_panels_ms = await pause_to_panels(app)
            result.scroll_to_top_ms = await scroll_to_top(app)
    return result


async def pause_to_panels(app: BenchApp) -> float:
    """From the run settling (paused) to an execution panel in view that folds under a keypress."""
    conversation = app.conversation
    t0 = time.perf_counter()
    app.post_message(EngineEvents(None, [Paused()]))  # type: ignore[arg-type]
    app.post_message(RunSettled(None))  # type: ignore[arg-type]
    await wait_for(app.settled.is_set)
    await wait_for(lambda: any(isinstance(w, ExecutionPanel) and w.region.height for w in conversation.children))
    panel = next(w for w in conversation.children if isinstance(w, ExecutionPanel) and w.region.height)
    panel.query_one(CollapsibleTitle).focus()
    app.post_message(events.Key("enter", "\r"))
    await wait_for(lambda: panel.item.collapsed)
    return (time.perf_counter() - t0) * 1000


async def scroll_to_top(app: BenchApp) -> float:
    """From the Home key (the focus on a panel's title at the end of the trace) to the first segment
    drawn in the view."""
    conversation = app.conversation
    first = conversation.segments[0]
    t0 = time.perf_counter()
    app.post_message(events.Key("home", None))

    def drawn() -> bool:
        widget = conversation.widget_of(first)
        return widget is not None and widget.region.height > 0 and conversation.scroll_y == 0

    await wait_for(drawn)
    return (time.perf_counter() - t0) * 1000


def schedule(sizes: list[int]) -> list[int]:
    """One round's passes: size n runs round(largest / n) times, each size's runs evenly spread.

    >>> schedule([1000, 2000, 4000])
    [1000, 2000, 1000, 4000, 1000, 2000, 1000]
    """
    largest = max(sizes)
    slots = []
    for n in sizes:
        count = max(1, round(largest / n))
        slots += [((j + 0.5) / count, n) for j in range(count)]
    return [n for _, n in sorted(slots)]


def fresh_pass(evts: list[Event], *, press_keys: bool, after: bool) -> Pass:
    """A pass on the heap a new app process would have: the last app's leftovers (its `gc.freeze` at
    mount kept them) are collected first, outside the timing."""
    gc.unfreeze()
    gc.collect()
    return asyncio.run(stream(evts, press_keys=press_keys, after=after))


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="8000,32000,128000", help="trace sizes in tokens, smallest first")
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds of clean passes (a size's time is the median of its passes)"
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.tokens.split(",")]
    backend = LlamaCppBackend(embedded_model_path(GEMMA_270M.name), n_ctx=512)
    traces = {n: build_events(backend, n) for n in sizes}
    backend.close()
    clean: dict[int, list[Pass]] = {n: [] for n in sizes}
    for _ in range(max(1, args.repeats)):
        for n in schedule(sizes):
            clean[n].append(fresh_pass(traces[n][0], press_keys=False, after=n == sizes[-1]))
    head = f"{'trace':>8s} {'tokens':>7s} {'seconds':>8s} {'spread':>13s} {'tokens/s':>9s} {'widgets':>8s}"
    print(head + " full gc  gc ms  keys p50/p95/max ms")
    figures: dict[int, dict] = {}
    for n in sizes:
        evts, tokens = traces[n]
        seconds = [p.seconds for p in clean[n]]
        median = statistics.median(seconds)
        keys = fresh_pass(evts, press_keys=True, after=False) if n >= 32000 else None
        lat = keys.latencies if keys else []
        f = {
            "tokens": tokens,
            "seconds": round(median, 3),
            "seconds_all": [round(x, 3) for x in seconds],
            "tok_s": round(tokens / median),
            "widgets": max(p.widgets for p in clean[n]),
            "full_collections": statistics.median(p.full_collections for p in clean[n]),
            "collector_ms": round(statistics.median(p.collector_ms for p in clean[n])),
            "key_p50_ms": round(statistics.median(lat), 1) if lat else None,
            "key_p95_ms": round(percentile(lat, 95), 1) if lat else None,
            "key_max_ms": round(max(lat), 1) if lat else None,
            "presses": len(lat),
        }
        figures[n] = f
        keys_text = f"{f['key_p50_ms']}/{f['key_p95_ms']}/{f['key_max_ms']}" if lat else "-"
        spread = f"{min(seconds):.2f}-{max(seconds):.2f}"
        row = f"{n:>8d} {tokens:>7d} {median:>8.2f} {spread:>13s} {f['tok_s']:>9d} {f['widgets']:>8d}"
        print(f"{row} {f['full_collections']:>8g} {f['collector_ms']:>6d}  {keys_text}")
    largest = clean[sizes[-1]]
    big = figures[sizes[-1]]

    def ratio(large: int, small: int) -> float | None:
        if large not in figures or small not in figures:
            return None
        a, b = figures[large], figures[small]
        return round((a["seconds"] / b["seconds"]) / (a["tokens"] / b["tokens"]) * 4, 2)

    out = {
        "tokens": big["tokens"],
        "tok_s": big["tok_s"],
        "ratio_32k_8k": ratio(32000, 8000),
        "ratio_128k_32k": ratio(128000, 32000),
        "key_p50_ms": big["key_p50_ms"],
        "key_p95_ms": big["key_p95_ms"],
        "key_max_ms": big["key_max_ms"],
        "scroll_to_top_ms": round(max(p.scroll_to_top_ms for p in largest), 1),
        "pause_to_panels_ms": round(max(p.pause_to_panels_ms for p in largest), 1),
        "rss_mb_per_10k_tokens": round(largest[0].rss_growth_mb / (big["tokens"] / 10_000), 2),
        "sizes": figures,
    }
    print(
        f"normalized time ratios: 32k/8k {out['ratio_32k_8k']}, 128k/32k {out['ratio_128k_32k']} (goal <= 4.4); "
        f"scroll to top {out['scroll_to_top_ms']} ms, pause to panels {out['pause_to_panels_ms']} ms (goal <= 100); "
        f"memory {out['rss_mb_per_10k_tokens']} MB per 10k tokens"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
