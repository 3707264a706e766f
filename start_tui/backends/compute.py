"""One thread makes every model call of the process (llama.cpp's and transformers').

llama.cpp's CPU backend computes a step with OpenMP, and so does torch on the CPU. Between the
parallel regions of a step and between steps, libgomp's worker threads spin, so that the next region
starts at once; but they spin only while the OpenMP threads of the process fit in its cores. Each
thread that has run a parallel region keeps a team of workers for as long as it lives, and once
those workers and the initial thread outnumber the cores, a waiting worker spins 100 times instead
of 300,000 before it sleeps (libgomp's env.c: `gomp_throttled_spin_count_var`), and every region
then waits for its workers to wake from a futex. Measured here (2 cores, 2 threads, the embedded
model, K = 4 rows a step): 128 steps take 4.5 s from one thread, and 6.6-6.8 s from a second thread
while the first one that decoded is still alive (the main thread always is). A run of the app
decodes from several threads in turn (the single backend in a run's thread, the batch in its
scheduler thread), so every call goes through this one thread, whose team is the only one. torch
shows the same on the transformers backend (a K = 4 batch of Gemma 3 270M: 4.6 s alone, 5.6 s after
the main thread had run the model once); a model being trained computes on the thread that asks
instead (`TransformersBackend.from_model`), since the training's own thread must stay the only other
one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class _Call:
    __slots__ = ("args", "done", "error", "fn", "result")

    def __init__(self, fn: Callable[..., object], args: tuple[object, ...]) -> None:
        self.fn = fn
        self.args = args
        self.done = threading.Event()
        self.result: object = None
        self.error: BaseException | None = None


class ComputeThread:
    """Runs the calls it is given, one at a time, on a thread of its own (started on first use)."""

    def __init__(self, name: str = "model-compute") -> None:
        self.name = name
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on the compute thread; its result, or its exception raised here."""
        if threading.current_thread() is self._thread:
            return fn(*args)  # a call made from the thread itself (nothing waits for it)
        self._ensure()
        job = _Call(fn, args)
        self._calls.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _ensure(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        while True:
            job = self._calls.get()
            try:
                job.result = job.fn(*job.args)
            except BaseException as exc:  # handed to the caller, which raises it
                job.error = exc
            finally:
                job.done.set()


compute = ComputeThread()
"""The process's model compute thread."""
