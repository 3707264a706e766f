"""The process layer: a confined worker, notebook sessions, limits that hold."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from start_tui.sandbox import Sandbox, SandboxConfig
from tests.conftest import SHARED


def test_the_worker_is_isolated_when_run_as_root(sandbox: Sandbox):
    info = sandbox.isolation
    if os.geteuid() != 0:
        pytest.skip("the namespace and uid layers need root; this run is not root")
    assert info["network"] and info["tmpfs"] and info["dropped_privileges"]
    assert info["uid"] >= 100000


def test_variables_persist_within_a_session(sandbox: Sandbox):
    session = sandbox.session()
    try:
        assert session.run("x = 41").ok
        result = session.run("print(x + 1)")
        assert result.ok and result.stdout == "42\n"
    finally:
        session.close()


def test_sessions_do_not_share_variables(sandbox: Sandbox):
    a, b = sandbox.session(), sandbox.session()
    try:
        a.run("secret_value = 1")
        result = b.run("print(secret_value)")
        assert not result.ok and "NameError" in (result.error or "")
    finally:
        a.close()
        b.close()


def test_persistence_can_be_turned_off():
    with Sandbox(SandboxConfig(persist=False)) as sb:
        session = sb.session()
        session.run("x = 1")
        assert "NameError" in (session.run("print(x)").error or "")
        session.close()


def test_a_timeout_kills_the_call_and_the_next_call_starts_fresh():
    with Sandbox(SandboxConfig(timeout_s=1.0)) as sb:
        session = sb.session()
        session.run("kept = 1")
        result = session.run("while True:\n    pass")
        assert result.timed_out and not result.ok and result.duration_s < 5
        after = session.run("print('alive')")
        assert after.ok and after.stdout == "alive\n" and after.state_lost
        session.close()


def test_memory_and_output_limits(sandbox: Sandbox):
    big = sandbox.run("x = bytearray(10 ** 10)")
    assert not big.ok and "MemoryError" in (big.error or "")
    out = sandbox.run("print('x' * 200000)")
    assert out.ok and len(out.stdout) == 65536 and out.truncated_chars > 0


def test_library_string_evaluation_is_stopped_by_the_audit_hook(sandbox: Sandbox):
    result = sandbox.run("import sympy\nsympy.sympify('1+1')")
    assert not result.ok and "strings into code" in (result.error or "")


def test_the_host_tmp_is_not_the_sandbox_tmp(sandbox: Sandbox, tmp_path: Path):
    # numpy.save is refused by the guard; the fsize limit and a private tmpfs are the layers below
    result = sandbox.run("import numpy as np\nnp.save('/tmp/start-tui-test.npy', np.zeros(2))")
    assert not result.ok
    assert not Path("/tmp/start-tui-test.npy").exists()


def test_errors_show_the_users_own_lines(sandbox: Sandbox):
    result = sandbox.run("def f(n):\n    return 10 // n\n\nprint(f(0))")
    assert not result.ok
    assert "return 10 // n" in (result.error or "") and result.error.endswith(
        "ZeroDivisionError: integer division or modulo by zero"
    )


def test_closing_the_sandbox_leaves_no_process():
    sb = Sandbox()
    sb.start()
    session = sb.session()
    session.run("x = 1")
    worker_pid = sb._worker.proc.pid  # type: ignore[union-attr]
    child_pid = session._child[0]  # type: ignore[index]
    sb.close()
    for pid in (worker_pid, child_pid):
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.mark.skipif(
    not (SHARED / "checks" / "sandbox-attacks").exists(), reason="../shared/checks is not beside the repo"
)
def test_the_shared_attack_suite_is_contained():
    """The project's acceptance check: every attack contained, every benign case working."""
    exe = Path(sys.executable).with_name("start-tui")
    cmd = f"{exe} exec --json" if exe.exists() else f"{sys.executable} -m start_tui exec --json"
    proc = subprocess.run(
        [str(SHARED / "checks" / "sandbox-attacks")],
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, SANDBOX_CMD=cmd),
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stdout.strip().endswith("0 failed")


def test_the_sandbox_works_when_the_code_lives_under_tmp(tmp_path: Path):
    """The worker hides /tmp behind a private tmpfs; a checkout there must still start (CI clones there)."""
    import shutil

    package = Path(__file__).resolve().parents[2] / "start_tui"
    shutil.copytree(package, tmp_path / "start_tui", ignore=shutil.ignore_patterns("__pycache__"))
    code = "from start_tui.sandbox import Sandbox\nwith Sandbox() as sb:\n    print(sb.run('print(6 * 7)').stdout)"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "42"


def test_a_program_reads_standard_input(sandbox):
    program = (
        "import sys\n"
        "sys.setrecursionlimit(10**6)\n"
        "input = sys.stdin.readline\n"
        "n = int(input())\n"
        "a = list(map(int, input().split()))\n"
        "sys.stdout.write(str(sorted(a)[-2]) + '\\n')\n"
        "rest = sys.stdin.read()\n"
        "print(repr(rest))\n"
        "sys.exit(0)\n"
    )
    result = sandbox.run(program, stdin="4\n8 2 5 1\nextra\n")
    assert result.ok, result.error
    assert result.stdout == "5\n'extra\\n'\n"
    plain = sandbox.run("x = input()\ny = input()\nprint(x + y)", stdin="a\nb\n")
    assert plain.ok and plain.stdout == "ab\n"
    eof = sandbox.run("input()\ninput()", stdin="one\n")
    assert not eof.ok and "EOFError" in eof.error


def test_stdin_does_not_open_the_real_sys(sandbox):
    for attack in ("import sys\nsys.modules", "import sys\nsys.stdin._lines.__class__", "import sys\nprint(sys.path)"):
        result = sandbox.run(attack, stdin="")
        assert not result.ok
    assert not sandbox.run("import sys").ok  # without stdin, sys stays out
