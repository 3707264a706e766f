"""Sampling stages start their model servers, wait for them, share the work among them and stop them."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from start_tui.errors import StartTuiError
from tests.servers import LlamaServer, free_port
from training.config import Recipe
from training.serving import served
from training.stages import stage_dir, stage_hint_infer, stage_rft

SMOKE = Path(__file__).resolve().parents[2] / "training" / "recipes" / "smoke-problems.jsonl"

# a stand-in server: answers /v1/models, and starts a child of its own (which must be stopped with it)
FAKE = (
    '{python} -c "import http.server, subprocess, sys, os; '
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    "open(os.environ['PIDS'], 'a').write(str(os.getpid()) + chr(10)); "
    "H = type('H', (http.server.BaseHTTPRequestHandler,), {{'do_GET': lambda s: (s.send_response(200), "
    's.end_headers(), s.wfile.write(b\'{{\\"data\\": [{{\\"id\\": \\"{model}\\"}}]}}\'))}}); '
    "http.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\""
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in ("Z", "X")


def test_servers_are_started_per_url_waited_for_and_stopped_with_their_children(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PIDS", str(tmp_path / "pids"))
    urls = [f"http://127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}"]
    with served(FAKE, {"model": "m"}, urls, tmp_path, timeout_s=60) as up:
        assert up == [urls[0], urls[1] + "/v1"]
        for url in up:
            assert httpx.get(url + "/models", trust_env=False).json() == {"data": [{"id": "m"}]}
        pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
        groups = {os.getpgid(p) for p in pids}
        assert len(pids) == 2 and len(groups) == 2 and os.getpgid(0) not in groups  # each in its own group
    time.sleep(0.5)
    assert not any(_alive(p) for p in pids)
    survivors = [p for p in map(int, filter(str.isdigit, os.listdir("/proc"))) if _alive(p) and _group(p) in groups]
    assert survivors == []  # the servers' own children are gone too
    assert (tmp_path / "serve-0.log").is_file() and (tmp_path / "serve-1.log").is_file()


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_a_server_that_fails_or_a_bad_template_is_one_sentence(tmp_path: Path):
    url = f"http://127.0.0.1:{free_port()}/v1"

    def serve(command: str, timeout_s: float = 60) -> None:
        with served(command, {"model": "x"}, [url], tmp_path, timeout_s):
            pass

    with pytest.raises(StartTuiError, match=r"exited \(3\) before it answered: no such model .*serve-0\.log"):
        serve("echo no such model {model}; exit 3")
    with pytest.raises(StartTuiError, match=r"is not a template of \{model\}, \{port\}, \{index\}, \{python\}"):
        serve("serve {modle}")
    with pytest.raises(StartTuiError, match=r"did not answer /v1/models within 1 s"):
        serve("sleep 30", timeout_s=1)


def _recipe(tmp_path: Path, **generate: object) -> Recipe:
    recipe = Recipe(workdir=str(tmp_path / "w"))
    recipe.data.problems = [str(SMOKE)]
    recipe.data.limit = 3
    recipe.generate.max_tokens = 24
    recipe.generate.backend = "openai"
    for key, value in generate.items():
        setattr(recipe.generate, key, value)
    return recipe


def test_hint_infer_starts_llama_cpp_server_samples_from_it_and_stops_it(tmp_path: Path, model_path: Path):
    command = "{python} -m llama_cpp.server --model {model} --port {port} --n_ctx 2048 --verbose False"
    recipe = _recipe(tmp_path, serve_command=command, model=str(model_path))
    port = free_port()
    recipe.generate.base_urls = [f"http://127.0.0.1:{port}/v1"]
    out = stage_hint_infer(recipe, Console(quiet=True))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert Counter(r["mode"] for r in rows) == {"greedy": 3, "hint": 3}
    assert all(r["trace"]["meta"]["model"] == str(model_path) for r in rows)  # the served model answered
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2, trust_env=False)  # and it is stopped
    assert (stage_dir(recipe, "hint-infer") / "manifest.json").is_file()


def test_a_server_killed_mid_stage_is_one_sentence_and_a_rerun_resumes(tmp_path: Path, model_path: Path):
    with LlamaServer(model_path, n_ctx=2048) as first:
        recipe = _recipe(tmp_path, base_urls=[first.url], model=str(model_path))
        runs = stage_dir(recipe, "hint-infer") / "runs.jsonl"

        def kill_after_the_first_row() -> None:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not (runs.exists() and runs.read_text().strip()):
                time.sleep(0.05)
            first.kill()

        killer = threading.Thread(target=kill_after_the_first_row, daemon=True)
        killer.start()
        with pytest.raises(StartTuiError, match=r"runs were cut off by the model server .*running the stage again"):
            stage_hint_infer(recipe, Console(quiet=True))
        killer.join()
    kept = [json.loads(line) for line in runs.read_text().splitlines()]
    assert 1 <= len(kept) < 6 and all(r["trace"] is not None and not r["note"] for r in kept)
    with LlamaServer(model_path, n_ctx=2048) as second:
        recipe.generate.base_urls = [second.url]
        stage_hint_infer(recipe, Console(quiet=True))
    rows = [json.loads(line) for line in runs.read_text().splitlines()]
    assert sorted((r["id"], r["mode"]) for r in rows) == sorted(
        (pid, mode) for pid in ("sq50", "prod", "pow") for mode in ("greedy", "hint")
    )  # each run once: what was done before is kept, the rest was done now
    assert rows[: len(kept)] == kept


@pytest.mark.model  # a llama.cpp server on the exported model
def test_rft_serves_the_fine_tuned_model_itself_exported_to_gguf(tmp_path: Path):
    from tests.tiny_lm import build_tiny_lm

    model = build_tiny_lm(tmp_path / "sft-model")  # stands for the SFT stage's output folder
    recipe = Recipe(workdir=str(tmp_path / "w"))
    recipe.data.problems = [str(SMOKE)]
    recipe.data.limit = 2
    recipe.generate.profile = "gemma3-base"  # a random model of no family: its recipe names how to prompt it
    recipe.rft.samples, recipe.rft.max_tokens = 2, 8
    recipe.rft.serve_command = (  # K requests at once: llama.cpp's server must not interrupt one for another
        "{python} -m llama_cpp.server --model {gguf} --port {port} --n_ctx 1024 --verbose False "
        "--interrupt_requests False"
    )
    stage_rft(recipe, Console(quiet=True), model)
    rows = [json.loads(line) for line in (stage_dir(recipe, "rft") / "samples.jsonl").read_text().splitlines()]
    gguf = stage_dir(recipe, "rft") / "model-f16.gguf"
    assert gguf.is_file() and len(rows) == 4
    assert {r["trace"]["meta"]["model"] for r in rows} == {str(gguf)}  # the exported fine-tuned model answered
    made = gguf.stat().st_mtime
    (stage_dir(recipe, "rft") / "samples.jsonl").unlink()
    stage_rft(recipe, Console(quiet=True), model)
    assert gguf.stat().st_mtime == made  # exported once
