"""The `start-tui` command as a user runs it: real subprocesses, the real embedded model."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from start_tui.engine import load_traces
from tests.conftest import SUM_OF_SQUARES, TEST_MODEL

EXE = [sys.executable, "-m", "start_tui"]


def cli(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=timeout, **kw)


def test_exec_json_prints_one_object(tmp_path: Path):
    f = tmp_path / "a.py"
    f.write_text("import math\nprint(math.factorial(10))\n")
    proc = cli("exec", "--json", str(f))
    obj = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert obj["ok"] and obj["stdout"] == "3628800\n" and obj["error"] is None and not obj["timed_out"]
    assert set(obj) == {"ok", "stdout", "stderr", "error", "timed_out", "duration_s", "truncated_chars"}
    assert obj["truncated_chars"] == 0


def test_exec_says_how_much_of_a_long_output_it_dropped(tmp_path: Path):
    f = tmp_path / "long.py"
    f.write_text("print('x' * 100000)\n")
    obj = json.loads(cli("exec", "--json", str(f)).stdout)
    assert len(obj["stdout"]) + obj["truncated_chars"] == 100001 and obj["truncated_chars"] > 0
    proc = cli("exec", str(f))
    assert f"({obj['truncated_chars']} more characters of output were dropped)" in proc.stderr


def test_exec_shows_a_last_expression_as_model_code_does_unless_run_as_a_script():
    code = "x = 6 * 7\nx\n"
    assert cli("exec", "-", input=code).stdout == "42\n"
    assert cli("exec", "--script", "-", input=code).stdout == ""


def test_exec_reads_standard_input_and_reports_errors():
    proc = cli("exec", "-", input="print(1 // 0)\n")
    assert proc.returncode == 1 and "ZeroDivisionError" in proc.stderr


@pytest.mark.model
def test_solve_shows_a_hint_an_execution_and_an_answer_and_writes_the_trace(tmp_path: Path):
    trace_path = tmp_path / "t.jsonl"
    proc = cli("solve", SUM_OF_SQUARES, "--model", TEST_MODEL, "--trace", str(trace_path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert " hint · auto · " in out and " sandbox · run 1 · " in out and "```output" in out
    assert "Final answer: " in out
    [trace] = load_traces(trace_path)
    assert trace.status == "finished"
    assert {"prompt", "model", "hint", "code", "output"} <= {s.kind for s in trace.spans}
    raw = json.loads(trace_path.read_text())["trace"]
    assert "".join(s["text"] for s in raw["spans"]) == trace.text
    assert trace.to_json() == raw


@pytest.mark.model
def test_a_prompt_file_replaces_the_profile_prompt(tmp_path: Path):
    prompt = tmp_path / "few-shot.txt"
    prompt.write_text("Answer each question.\n\nQuestion: What is 2 + 2?\nAnswer: 4\n\nQuestion: {problem}\nAnswer:\n")
    trace_path = tmp_path / "t.jsonl"
    proc = cli(
        "solve",
        "What is 3 + 5?",
        "--model",
        TEST_MODEL,
        "--prompt-file",
        str(prompt),
        "--max-tokens",
        "8",
        "--trace",
        str(trace_path),
    )
    assert proc.returncode == 0, proc.stderr
    [trace] = load_traces(trace_path)
    assert trace.spans[0].kind == "prompt"
    assert (
        trace.spans[0].text
        == "Answer each question.\n\nQuestion: What is 2 + 2?\nAnswer: 4\n\nQuestion: What is 3 + 5?\nAnswer:"
    )


def make_bad(kind: str, tmp_path: Path, model: Path) -> Path:
    p = tmp_path / "m.gguf"
    if kind == "not_gguf":
        p.write_text("hello")
    elif kind == "truncated":
        p.write_bytes(model.read_bytes()[:10_000_000])
    return p


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["solve", "x", "--model", "{missing}"], "does not exist"),
        (["solve", "x", "--model", "{not_gguf}"], "not a GGUF file"),
        (["solve", "x", "--model", "{truncated}"], "is truncated"),
        (["solve", "   "], "The problem is empty"),
        (["solve", "--file", "{missing}"], "does not exist"),
        (["solve", "--file", "{dir}"], "is a folder"),
        (["solve", "--file", "{binary}"], "not UTF-8"),
        (["solve", "x", "--profile", "nope"], "no model profile"),
        (["solve", "x", "--hint", "nope"], "no 'nope' hint"),
        (["exec", "{missing}"], "does not exist"),
        (["solve", "x", "--prompt-file", "{missing}"], "The prompt file"),
        (["solve", "x", "--prompt-file", "{noslot}"], "has no {problem} slot"),
        (["eval", "--benchmark", "{unreadable}", "--hints", "off", "--out", "{dir}/o"], "line 1: not JSON"),
        (["eval", "--benchmark", "{empty}", "--hints", "off", "--out", "{dir}/o"], "it is empty"),
        (["batch", "{unreadable}"], "holds no problem that can be read"),
    ],
)
def test_user_errors_are_one_sentence_without_a_traceback(tmp_path: Path, model_path: Path, args, message):
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "noslot.txt").write_text("Problem: {question}\nSolution:")
    (tmp_path / "unreadable.jsonl").write_text('{oops\n{"answer": "2"}\n')
    (tmp_path / "empty.jsonl").write_text("\n")
    subs = {
        "{unreadable}": str(tmp_path / "unreadable.jsonl"),
        "{empty}": str(tmp_path / "empty.jsonl"),
        "{noslot}": str(tmp_path / "noslot.txt"),
        "{missing}": str(tmp_path / "missing"),
        "{not_gguf}": str(make_bad("not_gguf", tmp_path, model_path)),
        "{dir}": str(tmp_path),
        "{binary}": str(tmp_path / "bin"),
    }
    if "{truncated}" in args:
        subs["{truncated}"] = str(make_bad("truncated", tmp_path, model_path))
    proc = cli(*[subs.get(a, a).replace("{dir}", str(tmp_path)) for a in args], timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.model
def test_a_killed_run_leaves_a_readable_trace(tmp_path: Path):
    trace_path = tmp_path / "t.jsonl"
    proc = subprocess.Popen(
        [*EXE, "solve", SUM_OF_SQUARES, "--model", TEST_MODEL, "--trace", str(trace_path), "--rounds", "3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if trace_path.exists() and '"type": "code_finished"' in trace_path.read_text():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never executed code")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    [trace] = load_traces(trace_path)
    assert trace.status == "incomplete"
    assert trace.text.startswith(trace.spans[0].text) and "output" in {s.kind for s in trace.spans}


def test_tui_flags_change_the_saved_settings_for_one_launch_only(tmp_path: Path, monkeypatch):
    from start_tui.cli import build_parser
    from start_tui.tui.app import StartApp
    from start_tui.tui.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text('model = "gemma3-270m"\nmax_tokens = 900\ntemperature = 0.3\n')
    monkeypatch.setenv("START_TUI_CONFIG", str(config))
    launched = []
    monkeypatch.setattr(StartApp, "run", lambda self: launched.append(self.settings))
    args = build_parser().parse_args(
        ["tui", "--model", "qwen2.5-coder-1.5b", "--profile", "qwen2.5", "--max-tokens", "50"]
    )
    assert args.func(args) == 0
    [settings] = launched
    assert (settings.model, settings.profile, settings.max_tokens) == ("qwen2.5-coder-1.5b", "qwen2.5", 50)
    assert settings.temperature == 0.3  # what the flags do not name comes from the file
    assert load_settings(config).model == "gemma3-270m" and load_settings(config).max_tokens == 900

    launched.clear()
    args = build_parser().parse_args(["tui"])
    assert args.func(args) == 0
    assert launched[0] == load_settings(config)


def test_a_bad_tui_flag_value_is_one_sentence(tmp_path: Path):
    out = subprocess.run(
        [sys.executable, "-m", "start_tui", "tui", "--temperature", "99"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "temperature" in out.stderr and "Traceback" not in out.stderr


def test_output_into_a_pipe_whose_reader_left_ends_quietly():
    """`start-tui ... | head`: once the reader is gone the command stops, with no traceback."""
    import os

    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "start_tui.cli", "train", "problems", "--list-kinds"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert proc.stderr == "" and proc.returncode == 141


def test_train_says_why_when_the_training_package_cannot_be_imported(tmp_path: Path):
    """A dependency of `training` missing (or broken) must not make `start-tui train` vanish from the
    command line without a word: the command stays, and saying it names the failed import."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    # run with a `training.config` that fails to import, the way a missing dependency would
    (shadow / "sitecustomize.py").write_text(
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'training.config':\n"
        "            raise ModuleNotFoundError(\"No module named 'tomli_w'\", name='tomli_w')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{shadow}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run(
        [sys.executable, "-m", "start_tui", "train", "hint-infer", "--recipe", "r.toml"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "start-tui train cannot start: importing the training package failed" in out.stderr
    assert "tomli_w" in out.stderr
    helped = subprocess.run([sys.executable, "-m", "start_tui", "--help"], capture_output=True, text=True, env=env)
    assert "unavailable here" in helped.stdout
