"""Every llama.cpp model call of the process runs on one thread (see `start_tui.backends.compute`)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from start_tui.backends import SamplingParams
from start_tui.backends.compute import ComputeThread, compute
from start_tui.backends.llama_cpp import LlamaCppBackend


def test_calls_from_many_threads_run_on_one_thread_and_bring_back_results_and_errors():
    worker = ComputeThread(name="test-compute")
    seen: list[str] = []

    def where(i: int) -> int:
        seen.append(threading.current_thread().name)
        return i * i

    results: dict[int, int] = {}
    threads = [threading.Thread(target=lambda i=i: results.update({i: worker.call(where, i)})) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: i * i for i in range(6)}
    assert set(seen) == {"test-compute"}

    def fails() -> None:
        raise ValueError("bad step")

    with pytest.raises(ValueError, match="bad step"):
        worker.call(fails)
    # a call made from the thread itself runs in place instead of waiting for itself
    assert worker.call(lambda: worker.call(where, 7)) == 49


def test_the_single_backend_and_the_batch_decode_on_the_compute_thread(model_path: Path, monkeypatch):
    import llama_cpp

    threads: set[str] = set()
    decode = llama_cpp.llama_decode

    def spying(ctx, batch):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return decode(ctx, batch)

    monkeypatch.setattr(llama_cpp, "llama_decode", spying)
    backend = LlamaCppBackend(model_path, n_ctx=256, n_threads=1)
    try:
        params = SamplingParams(max_tokens=3, temperature=0.0)
        assert "".join(backend.stream("Two plus two is", params))
        with backend.batch(2) as batch:
            outs: list[str] = []
            runner = threading.Thread(target=lambda: outs.append("".join(batch.lanes[1].stream("One and", params))))
            runner.start()
            runner.join()
            assert outs and outs[0]
    finally:
        backend.close()
    assert threads == {compute.name}


def test_the_transformers_backend_computes_on_the_compute_thread_and_a_training_models_in_place(
    tiny_dir: Path, monkeypatch
):
    from start_tui.backends.hf import TransformersBackend

    threads: list[str] = []
    backend = TransformersBackend(tiny_dir, seed=0)
    backend.model.register_forward_pre_hook(lambda *a: threads.append(threading.current_thread().name))
    params = SamplingParams(max_tokens=3, temperature=0.0)
    "".join(backend.stream("Let me compute", params))
    with backend.batch(2) as batch:
        runner = threading.Thread(target=lambda: "".join(batch.lanes[0].stream("Wait, I should", params)))
        runner.start()
        runner.join()
    assert threads and set(threads) == {compute.name}

    # the model being trained (engine_eval during SFT) computes on the thread that solves, which ends with it
    threads.clear()
    in_memory = TransformersBackend.from_model(backend.model, backend.tokenizer, "step 1")
    solver = threading.Thread(target=lambda: "".join(in_memory.stream("Let me compute", params)), name="solve-0")
    solver.start()
    solver.join()
    assert threads and set(threads) == {"solve-0"}
