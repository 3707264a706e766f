"""Stream a recorded long trace through the TUI headless: sustained tokens/s, 32k/8k time, key latency.

The trace is real model output (tests/data/sum-of-squares.jsonl, thinking, hints, code and outputs)
tiled to the token count and cut into tokens with the embedded model's tokenizer. A producer
thread hands the events to the app exactly as the engine driver does (batches of text deltas by
`post_message`, other events at once) and waits for each batch to be rendered before sending the
next (what a fast model would get: the UI's own pace). Throughput is measured on clean passes; a
third pass streams the large trace again while `p` is pressed every 0.25 s, and the latency is
measured from posting the key to its action running (the key dispatch a person feels; the branch
here is a replayed trace, so the action itself does nothing).
Goals: >= 2,000 tokens/s sustained, 32k time / 8k time <= 4.5, key latency <= 50 ms.

    python bench/tui_stream.py [--tokens 32000] [--small 8000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from pathlib import Path

from textual import events

from start_tui.backends.embedded import embedded_model_path
from start_tui.backends.llama_cpp import LlamaCppBackend
from start_tui.engine import Event, Finished, TextDelta, Trace, load_traces
from start_tui.engine.events import Span, Started
from start_tui.engine.trace import trace_events
from start_tui.tui.app import BATCH_TOKENS, StartApp
from start_tui.tui.messages import EngineEvents
from start_tui.tui.session import Branch
from start_tui.tui.settings import Settings

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "data" / "sum-of-squares.jsonl"


def build_events(backend: LlamaCppBackend, n_tokens: int, per_panel: int = 2000) -> tuple[list[Event], int]:
    """Events of a trace of about `n_tokens` generated tokens, text split into real tokens.

    The recorded run's spans are repeated in order; its thinking paragraphs are repeated so that a
    panel (hint or execution) comes about every `per_panel` tokens, as in a long START trace (a
    32k-token trace with a tool call every few thousand tokens), not every few dozen.
    """
    [recorded] = load_traces(RECORDED)
    body = [s for s in recorded.spans if s.kind != "prompt"]
    thinking = " ".join(s.text.strip() for s in body if s.kind == "model" and len(s.text) > 20)
    paragraph = (thinking + "\n\n") if thinking else "Let me think about this.\n\n"
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

    async def on_engine_events(self, message: EngineEvents) -> None:
        await super().on_engine_events(message)
        self.rendered.set()

    def action_pause(self) -> None:
        self.key_handled.append(time.perf_counter())
        super().action_pause()


async def stream(evts: list[Event], press_keys: bool) -> tuple[float, list[float], float, int]:
    app = BenchApp()
    started = evts[0]
    assert isinstance(started, Started)
    total = sum(len(s) for s in started.spans) + sum(
        len(getattr(e, "text", "") or getattr(e, "output_text", "")) for e in evts[1:]
    )
    async with app.run_test(size=(120, 40)) as pilot:
        app.session.branches = [Branch(Trace(id="bench", problem=started.problem), run=None)]
        app.session.current = 0
        app.conversation.focus()
        await pilot.pause()
        sent_keys: list[float] = []
        done = threading.Event()

        def produce() -> None:
            next_key = time.perf_counter() + 0.25
            for batch in batches(evts):
                app.rendered.clear()
                app.post_message(EngineEvents(None, batch))  # type: ignore[arg-type]  # an opened-trace branch
                app.rendered.wait(30)
                if press_keys and time.perf_counter() >= next_key:
                    sent_keys.append(time.perf_counter())
                    app.post_message(events.Key("p", "p"))
                    next_key += 0.25
            done.set()

        t0 = time.perf_counter()
        producer = threading.Thread(target=produce)
        producer.start()
        while not (done.is_set() and app.conversation.text_offset >= total):
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
        producer.join()
        await pilot.pause()
        latencies = [(h - s) * 1000 for s, h in zip(sent_keys, app.key_handled, strict=False)]
        widgets = len(app.conversation.children)
        t1 = time.perf_counter()
        await app.conversation.unfold()  # what a pause or the end of the run costs
        await pilot.pause()
        unfold = time.perf_counter() - t1
    return elapsed, latencies, unfold, widgets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32000)
    parser.add_argument("--small", type=int, default=8000)
    args = parser.parse_args()
    backend = LlamaCppBackend(embedded_model_path(), n_ctx=512)
    big, n_big = build_events(backend, args.tokens)
    small, n_small = build_events(backend, args.small)
    backend.close()
    t_small, _, _, _ = asyncio.run(stream(small, press_keys=False))
    t_big, _, t_unfold, widgets = asyncio.run(stream(big, press_keys=False))
    t_keys, latencies, _, _ = asyncio.run(stream(big, press_keys=True))
    rate = n_big / t_big
    print(f"{'trace':10s} {'tokens':>7s} {'seconds':>8s} {'tokens/s':>9s}")
    print(f"{'small':10s} {n_small:>7d} {t_small:>8.2f} {n_small / t_small:>9.0f}")
    print(f"{'large':10s} {n_big:>7d} {t_big:>8.2f} {rate:>9.0f}")
    ratio = (t_big / t_small) / (n_big / n_small) * 4
    print(
        f"time large / time small = {t_big / t_small:.2f} for {n_big / n_small:.2f}x the tokens "
        f"(normalized to 4x: {ratio:.2f}; goal <= 4.5)"
    )
    print(
        f"large trace: {widgets} widgets in the view while streaming (folded history); "
        f"unfolding it into real panels at the end took {t_unfold * 1000:.0f} ms"
    )
    if latencies:
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else latencies[0]
        median = statistics.median(latencies)
        print(
            f"key latency while streaming ({t_keys:.1f} s pass): {len(latencies)} presses, "
            f"median {median:.1f} ms, p95 {p95:.1f} ms, max {max(latencies):.1f} ms (goal <= 50 ms)"
        )
    print(
        f"goals: tokens/s >= 2000 {'met' if rate >= 2000 else 'NOT met'}; "
        f"linear {'met' if ratio <= 4.5 else 'NOT met'}; "
        f"latency {'met' if latencies and statistics.median(latencies) <= 50 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
