"""The process layer: a confined worker, notebook sessions, limits that hold."""

import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from start_tui.sandbox import Sandbox, SandboxConfig
from tests.conftest import SHARED


def test_the_sandbox_runs_in_full_mode(sandbox: Sandbox):
    # as root directly, otherwise through a user namespace; the weak mode is only ever chosen by hand
    assert sandbox.isolation["mode"] == "full"
    assert sandbox.isolation["user_namespace"] == (os.geteuid() != 0)


def test_every_warm_up_of_the_preloaded_libraries_completes(sandbox: Sandbox):
    """sympy's lazy paths and a matplotlib figure are drawn once in the zygote, so that a session's first
    use needs no disk; a warm-up that breaks on a library's version is reported, and must not be."""
    sandbox.start()
    assert sandbox.isolation["warm_failures"] == []
    assert sandbox.isolation["modules"] > 100


def test_each_session_is_confined_on_its_own(sandbox: Sandbox):
    probe = (
        "import os\n"
        "print(os.getpid(), sorted(p for p in os.listdir('/proc') if p.isdigit()), os.getuid() != 0)\n"
        "print(sorted(os.listdir('/')))\n"
        "seen = 'mine' in os.listdir('/tmp')\n"
        "open('/tmp/mine', 'w').write('x')\n"
        "print(seen, 'mine' in os.listdir('/tmp'))\n"
    )
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        a, b = sb.run(probe), sb.run(probe)
    for result in (a, b):
        assert result.ok, result.error
        pid_line, root_line, tmp_line = result.stdout.splitlines()
        # PID 2 of its own namespace (its init is PID 1, hidden), not root, its own empty /tmp
        assert pid_line == "2 ['2'] True"
        assert "etc" not in root_line and "home" not in root_line
        assert tmp_line == "False True"  # the other session's file is not there; its own is
    assert not Path("/tmp/mine").exists()


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


def test_a_sandbox_first_used_on_a_thread_that_ends_goes_on_serving_the_others():
    """The worker starts with the first call, on whatever thread makes it (a run's thread, one of
    several problems in flight); that thread ending must not end the worker under the others."""
    import threading

    sandbox = Sandbox()
    first: list[str] = []
    try:
        thread = threading.Thread(target=lambda: first.append(sandbox.run("print(6 * 7)").stdout))
        thread.start()
        thread.join()
        assert first == ["42\n"] and sandbox.running
        time.sleep(0.5)  # the kernel's signal to the worker, had it been tied to that thread, has landed
        result = sandbox.run("print(6 * 9)")
        assert result.ok and result.stdout == "54\n", result.error
    finally:
        sandbox.close()


def test_a_process_forked_after_a_sandbox_started_can_start_one_of_its_own(sandbox: Sandbox):
    """The thread that starts workers is not in a forked child: the child must start its own, not wait
    forever on the parent's."""
    assert sandbox.run("print(1)").ok  # the parent's starting thread exists now
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 1
        try:
            signal.alarm(60)
            with Sandbox() as own:
                code = 0 if own.run("print(2)").stdout == "2\n" else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung starting its sandbox")
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("language_layer", [True, False])
def test_a_tool_call_shows_its_last_bare_expression_as_a_notebook_does(language_layer: bool):
    cells = [
        ("x = sum(i * i for i in range(51))\nx", "42925\n"),
        ("x + 1\nx - 1", "42924\n"),  # only the last one
        ("'text'", "'text'\n"),  # its repr
        ("None", ""),
        ("def f():\n    print('inside')\n    return 2\nf()", "inside\n2\n"),
        ("print(7)", "7\n"),  # once, not followed by None
        ("[print(i) for i in range(2)]", "0\n1\n"),
        ("y = 3", ""),
    ]
    with Sandbox(SandboxConfig(display=True, language_layer=language_layer)) as sb:
        session = sb.session()
        try:
            for code, shown in cells:
                result = session.run(code)
                assert result.ok and result.stdout == shown, (code, result)
            failed = session.run("1 / 0")
            assert not failed.ok and "ZeroDivisionError" in (failed.error or "")
            assert "SyntaxError" in (session.run("x +").error or "")
        finally:
            session.close()
    # a script (graders, `start-tui exec`) shows nothing it does not print
    with Sandbox(SandboxConfig(language_layer=language_layer)) as sb:
        assert sb.run("x = 4\nx").stdout == ""


def test_the_last_expression_gets_the_same_readable_refusals():
    with Sandbox(SandboxConfig(display=True)) as sb:
        result = sb.run("x = 2\n__import__('os')")
        assert not result.ok and result.stdout == ""
        assert "import of 'os' is not available in the sandbox (it has no files)" in (result.error or "")


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


def test_strings_that_sympy_evaluates_run_but_stay_inside(sandbox: Sandbox):
    assert sandbox.run("import sympy\nprint(sympy.sympify('(x+1)**2').expand())").stdout == "x**2 + 2*x + 1\n"
    marker = Path("/tmp/start-tui-sympify-marker")
    marker.unlink(missing_ok=True)
    result = sandbox.run(f"import sympy\nsympy.sympify(\"__import__('os').system('touch {marker}')\")")
    assert not marker.exists(), result


def test_the_host_tmp_is_not_the_sandbox_tmp(tmp_path: Path):
    """The mount, not a guard: plain Python (no language layer) sees neither the host's /tmp nor the
    host's file in it, and what it writes to its /tmp never reaches the host's."""
    import uuid

    name = f"start-tui-host-{uuid.uuid4().hex}"
    host_file = Path("/tmp") / name
    host_file.write_text("host")
    probe = (
        "import os, numpy as np\n"
        f"print(os.path.exists('/tmp/{name}'), '{name}' in os.listdir('/tmp'))\n"
        f"np.save('/tmp/{name}.npy', np.zeros(2))\n"
        f"print(np.load('/tmp/{name}.npy'))\n"
    )
    try:
        with Sandbox(SandboxConfig(language_layer=False)) as sb:
            result = sb.run(probe)
        assert result.ok, result.error
        assert result.stdout == "False False\n[0. 0.]\n"
        assert not Path(f"/tmp/{name}.npy").exists() and host_file.read_text() == "host"
    finally:
        host_file.unlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="session cgroups are made as root (a user namespace has none)")
def test_the_processes_of_a_session_share_one_memory_limit():
    # each child is within the per-process limit; together they are past the session's 2 GiB
    code = (
        "import os, time\nkids = []\n"
        "for _ in range(6):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        try:\n"
        "            b = bytearray(600 << 20)\n            b[::4096] = b'1' * ((600 << 20) // 4096)\n"
        "            time.sleep(2)\n"
        "        finally:\n            os._exit(0)\n"
        "    kids.append(pid)\n"
        "print(sum(os.waitpid(pid, 0)[1] == 0 for pid in kids))\n"
    )
    with Sandbox(SandboxConfig(language_layer=False, memory_mb=2048, timeout_s=30)) as sb:
        result = sb.run(code)
    assert result.ok, result.error
    # children that held their 600 MiB to the end; the others were ended by the session's memory limit
    assert 1 <= int(result.stdout) <= 3, result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="session cgroups are made as root (a user namespace has none)")
def test_a_session_removes_the_empty_cgroups_of_supervisors_that_are_gone():
    from start_tui.sandbox import confine

    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    dead = next(p for p in range(pid_max - 1, 1, -1) if not Path(f"/proc/{p}").exists())  # no process has it
    stale = confine.SessionCgroup.create(f"{confine.CGROUP_PREFIX}{dead}", 64, 4, host="")
    if stale is None:
        pytest.skip("this host lets no memory and pids cgroup be made")
    try:
        with Sandbox() as sb:
            assert sb.run("print(1)").stdout == "1\n"
        assert not [d for d in stale.dirs if os.path.exists(d)], "a killed supervisor's cgroup stayed"
    finally:
        stale.remove()


def test_a_call_that_leaves_a_thread_running_ends_its_session():
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        session = sb.session()
        session.run("kept = 1")
        left = session.run(
            "import threading, time\nthreading.Thread(target=time.sleep, args=(30,)).start()\nprint('ok')"
        )
        assert left.ok and left.stdout == "ok\n"
        after = session.run("print('fresh')")
        assert after.ok and after.state_lost
        session.close()


def test_a_process_whose_first_thread_ended_while_another_runs_ends_its_session():
    # the leader leaves with the exit system call (not exit_group): it shows as a zombie while its
    # other thread goes on computing, between calls, past every deadline
    sys_exit = {"x86_64": 60, "aarch64": 93}[platform.machine()]
    code = (
        "import ctypes, os, threading, time\n"
        "libc = ctypes.CDLL(None)\n"
        "if os.fork() == 0:\n"
        "    threading.Thread(target=time.sleep, args=(60,)).start()\n"
        "    time.sleep(0.2)\n"
        f"    libc.syscall({sys_exit}, 0)\n"
        "time.sleep(0.5)\nprint('left')"
    )
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        session = sb.session()
        left = session.run(code)
        assert left.ok and left.stdout == "left\n", left.error
        after = session.run("print('fresh')")
        assert after.ok and after.state_lost
        session.close()


def test_a_runner_continued_while_its_session_is_paused_ends_the_session():
    # whatever continues the stopped runner between calls (here the host stands in for a source of
    # SIGCONT the filter does not know), the next call sees it ran, and the notebook is not trusted
    import signal
    import time

    resume = (
        "import os, signal\n"
        "def again(*_):\n"
        "    with open('/tmp/ran', 'a') as f:\n        f.write('x')\n"
        "    os.kill(os.getpid(), signal.SIGSTOP)  # and look stopped again\n"
        "signal.signal(signal.SIGCONT, again)\nprint('set')"
    )
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        session = sb.session()
        assert session.run(resume).stdout == "set\n"
        init = session._child.pids[-1]  # type: ignore[union-attr]
        [runner] = [int(p) for p in Path(f"/proc/{init}/task/{init}/children").read_text().split()]
        os.kill(runner, signal.SIGCONT)
        time.sleep(0.3)
        caught = session.run("print(open('/tmp/ran').read())")
        assert not caught.ok and "ran while the session was paused" in (caught.error or ""), caught
        fresh = session.run("import os\nprint(os.path.exists('/tmp/ran'))")
        assert fresh.ok and fresh.stdout == "False\n" and fresh.state_lost
        session.close()


def test_code_that_stops_reading_its_commands_cannot_hold_the_next_call_past_its_deadline():
    # the runner's command pipe never read again: a next cell longer than the pipe holds must not
    # block the supervisor's write, which would take the deadline with it
    stall = "import time\nimport start_tui.sandbox.runner as R\nR._read_exact = lambda f, n: time.sleep(10**6)"
    with Sandbox(SandboxConfig(language_layer=False, timeout_s=2)) as sb:
        session = sb.session()
        assert session.run(stall).ok
        late = session.run("x = 1\n" * 30000)
        assert late.timed_out and not late.ok and late.duration_s < 2 + 2.5, (late.error, late.duration_s)
        assert session.run("print('again')").stdout == "again\n"
        session.close()


def test_a_report_frame_nested_past_the_parsers_depth_is_no_report_and_breaks_nothing():
    deep = "import os, struct\nbody = b'[' * 300_000\nos.write(4, struct.pack('!I', len(body)) + body)\nprint('sent')"
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        session = sb.session()
        sent = session.run(deep)
        assert sent.ok and sent.stdout == "sent\n", sent.error
        after = session.run("print(6 * 7)")
        assert after.ok and after.stdout == "42\n" and after.state_lost
        session.close()


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p and c not in found]
        found.update(kids)
        todo += kids
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_the_code_dies_with_the_host_process_that_ran_it(tmp_path: Path, signal_name: str):
    import signal
    import time

    spin = tmp_path / "spin.py"
    spin.write_text(
        "import signal, time\n"
        "for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):\n    signal.signal(s, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(0.05)\n"
    )
    cmd = [*_start_tui().split(), "exec", "--json", "--no-language-layer", "--timeout", "120", str(spin)]
    host = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tree: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(tree) < 4 and time.monotonic() < deadline:  # worker, supervisor, init, runner
            time.sleep(0.2)
            tree = _descendants(host.pid)
        assert len(tree) >= 4, f"the session did not start: {tree}"
        time.sleep(1.0)
        host.send_signal(getattr(signal, signal_name))
        host.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_running(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in tree if _running(p)], "the session outlived the host process"
    finally:
        host.kill()
        for p in tree:
            if _running(p):  # a failed check leaves nothing spinning
                with contextlib.suppress(OSError):
                    os.kill(p, 9)


def test_a_forged_status_frame_is_not_taken_for_a_later_call():
    forge = (
        "import json, os, struct\n"
        "for call in range(1, 5):\n"
        "    body = json.dumps({'call': call, 'ok': True, 'error': None}).encode()\n"
        "    os.write(4, struct.pack('!I', len(body)) + body)\n"
        "print('forged')"
    )
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        session = sb.session()
        session.run(forge)  # its own report is its own business; the frames for later calls are not
        later = session.run("print(6 * 7)")
        assert later.ok and later.stdout == "42\n" and later.state_lost
        failing = session.run("1 / 0")
        assert not failing.ok and "ZeroDivisionError" in (failing.error or "")
        session.close()


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
    session_pids = session._child.pids  # type: ignore[union-attr]
    assert len(session_pids) == 2  # the supervisor and the session's init
    sb.close()
    for pid in (worker_pid, *session_pids):
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


HERE = Path(__file__).resolve().parent


def _start_tui() -> str:
    exe = Path(sys.executable).with_name("start-tui")
    return str(exe) if exe.exists() else f"{sys.executable} -m start_tui"


def _boundary(*dirs: Path, env: dict[str, str] | None = None, user: str | None = None) -> str:
    # raw cases (plain Python) go through the process layer alone
    env_: dict[str, str] = {"SANDBOX_RAW_CMD": f"{_start_tui()} exec --json --no-language-layer", **(env or {})}
    cmd = [str(SHARED / "checks" / "sandbox-boundary"), *map(str, dirs)]
    if user:
        cmd = ["runuser", "-u", user, "--", "env", *(f"{k}={v}" for k, v in env_.items()), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=dict(os.environ, **env_), cwd="/tmp")
    short = [line for line in proc.stdout.splitlines() if line.startswith("FALLS SHORT")]
    assert proc.returncode == 0 and not short, "\n".join(short) or proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.stdout.strip().endswith(" 0 failed")
    return proc.stdout


needs_checks = pytest.mark.skipif(
    not (SHARED / "checks" / "sandbox-boundary").exists(), reason="../shared/checks is not beside the repo"
)


@needs_checks
@pytest.mark.slow
def test_the_shared_boundary_check_holds_with_our_attacks_and_solvers():
    """The acceptance check: its attacks (raw ones with the language layer off), ours, its and our solver code."""
    solvers = HERE / "solvers"
    optional = [p for p in solvers.glob("benign_opt_*.py") if _importable(p.stem.split("_")[2])]
    assert len(list((HERE / "attacks").glob("*.py"))) >= 40 and len(list(solvers.glob("benign_*.py"))) >= 60
    with _only(solvers, keep=optional) as chosen:
        out = _boundary(HERE / "attacks", chosen, env={"SANDBOX_CMD": f"{_start_tui()} exec --json"})
    assert out.count("contained") >= 40 + 28


@needs_checks
@pytest.mark.slow
def test_our_attacks_are_contained_without_the_language_layer():
    _boundary(
        HERE / "attacks",
        env={"SANDBOX_CMD": f"{_start_tui()} exec --json --no-language-layer", "SANDBOX_RAW_CMD": "skip"},
    )


@needs_checks
@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or not os.environ.get("START_TUI_TEST_USER"),
    reason="needs root and START_TUI_TEST_USER, an unprivileged user (.ci/run creates one)",
)
def test_the_boundary_holds_for_a_non_root_user_through_a_user_namespace():
    # the process layer alone: every attack and every built-in case as plain Python
    user = os.environ["START_TUI_TEST_USER"]
    env = {
        "SANDBOX_CMD": f"{_start_tui()} exec --json --no-language-layer",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",
    }
    _boundary(HERE / "attacks", env=env, user=user)


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@contextlib.contextmanager
def _only(folder: Path, keep: list[Path]):
    """`folder`'s benign cases, less the optional ones whose package is not installed."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / folder.name
        target.mkdir()
        for path in folder.glob("*.py"):
            if not path.stem.startswith("benign_opt_") or path in keep:
                shutil.copy(path, target / path.name)
        yield target


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


def _link_or_copy(source: Path, target: Path) -> None:
    import shutil

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if source.is_dir():
        shutil.copytree(source, target, copy_function=link, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        link(str(source), str(target))


def test_the_sandbox_works_when_the_virtual_environment_lives_under_tmp():
    """A venv made under /tmp (as fresh-clone and many users do): its packages are bound again over
    each session's scratch /tmp, read-only, and the scratch stays writable and private."""
    import importlib.util
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="start-tui-venv-", dir="/tmp"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
        site = next((root / "venv" / "lib").glob("python3*/site-packages"))
        for name in ("numpy", "sympy", "mpmath", "RestrictedPython"):
            spec = importlib.util.find_spec(name)
            assert spec is not None and spec.origin
            package = Path(spec.origin).resolve().parent
            _link_or_copy(package, site / name)
            for extra in package.parent.glob(f"{name}.libs"):
                _link_or_copy(extra, site / extra.name)
        code = (
            "from start_tui.sandbox import Sandbox, SandboxConfig\n"
            "probe = '''import numpy, sympy, os\n"
            "print(numpy.__file__.startswith('/tmp/'), numpy.arange(4).sum(), sympy.sqrt(8))\n"
            "open('/tmp/mine', 'w').write('x')\n"
            "try:\n"
            "    open(os.path.join(os.path.dirname(numpy.__file__), 'planted.py'), 'w')\n"
            "except OSError as exc:\n"
            "    print('read-only', exc.errno)\n"
            "'''\n"
            "with Sandbox(SandboxConfig(language_layer=False)) as sb:\n"
            "    r = sb.run(probe)\n"
            "    print(r.stdout, r.error)\n"
        )
        proc = subprocess.run(
            [str(root / "venv" / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        lines = proc.stdout.splitlines()
        assert lines[0] == "True 6 2*sqrt(2)", proc.stdout
        assert lines[1] == "read-only 30", proc.stdout  # EROFS
        assert not (site / "numpy" / "planted.py").exists() and not Path("/tmp/mine").exists()
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


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


def test_a_program_reads_standard_input_as_bytes_and_through_open_0(sandbox):
    result = sandbox.run(
        "import sys\nfirst = sys.stdin.buffer.readline()\nrest = open(0).read().split()\nprint(first, rest)",
        stdin="7\n1 2\n3\n",
    )
    assert result.ok and result.stdout == "b'7\\n' ['1', '2', '3']\n", result


SOLVERS = sorted((Path(__file__).resolve().parent / "solvers").glob("benign_*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLVERS, ids=[p.stem for p in SOLVERS])
def test_solver_code_prints_what_plain_python_prints(sandbox: Sandbox, path: Path):
    if path.stem.startswith("benign_opt_") and not _importable(path.stem.split("_")[2]):
        pytest.skip(f"{path.stem.split('_')[2]} is not installed")
    code = path.read_text()
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, cwd="/tmp")
    assert plain.returncode == 0, plain.stderr[-1000:]
    result = sandbox.run(code)
    assert result.ok, result.error
    assert result.stdout == plain.stdout


# --- each session an island: signals, host-wide kernel resources, core helpers, priorities ------


def test_each_session_is_a_process_group_and_session_of_its_own(sandbox: Sandbox):
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        result = sb.run("import os\nprint(os.getpid(), os.getpgrp(), os.getsid(0))")
    # inside its PID namespace: a group or session led from outside would read as 0
    assert result.ok and result.stdout == "2 2 2\n", result


def test_a_signal_to_the_codes_group_or_to_everyone_reaches_nothing_outside_its_session():
    import signal

    caught: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, _frame: caught.append(signum))
    try:
        with Sandbox(SandboxConfig(language_layer=False)) as sb:
            other = sb.session()
            assert other.run("kept = 41").ok
            # SIGUSR1 ends a process that has no handler for it: the worker, a supervisor, another runner
            attack = "import os, signal\nos.kill(0, signal.SIGUSR1)\nos.kill(-1, signal.SIGUSR1)"
            sb.run(attack)
            after = other.run("print(kept + 1)")
            assert after.ok and after.stdout == "42\n" and not after.state_lost, after
            other.close()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert caught == []


def test_kernel_resources_of_the_whole_host_are_out_of_reach(sandbox: Sandbox):
    probe = r"""
import ctypes, errno, fcntl, os, platform, resource
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
x86 = platform.machine() == "x86_64"
def refused(result):
    return "refused" if result == -1 and ctypes.get_errno() == errno.EPERM else f"allowed ({result})"
ctx = ctypes.c_ulong(0)
print("io_setup", refused(libc.syscall(206 if x86 else 0, 8, ctypes.byref(ctx))))
fd = os.open(os.__file__, os.O_RDONLY)
print("readahead", refused(libc.syscall(187 if x86 else 213, fd, 0, 4096)))
print("fadvise", refused(libc.syscall(221 if x86 else 223, fd, 0, 0, 4)))
print("cachestat", refused(libc.syscall(451, fd, 0, 0, 0)))
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
page = libc.mmap(None, 4096, 1, 2, fd, 0)
def advise(advice):
    return libc.madvise(ctypes.c_void_p(page), 4096, advice)
print("pageout", refused(advise(21)), refused(advise(20)))
print("dontneed", advise(4))
print("dumpable", refused(libc.prctl(4, 1, 0, 0, 0)))
r, w = os.pipe()
try:
    fcntl.fcntl(r, 1031, 1 << 20)
    print("pipe size allowed")
except PermissionError:
    print("pipe size refused")
limits = [resource.getrlimit(getattr(resource, "RLIMIT_" + n)) for n in ("CORE", "RTPRIO", "NICE", "SIGPENDING")]
print("limits", limits)
sems = 0
libc.semget.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
while sems < 100000 and libc.semget(0, 250, 0o1600) >= 0:
    sems += 250
print("semaphores", sems <= 1024)
print("memfd_secret", refused(libc.syscall(447, 0)))
print("sysinfo", refused(libc.syscall(99 if x86 else 179, ctypes.create_string_buffer(256))))
shared = libc.mmap(None, 4096, 1, 1, fd, 0)
print("shared futex", refused(libc.syscall(202 if x86 else 98, ctypes.c_void_p(shared), 1, 1, 0, 0, 0)))
print("private futex", libc.syscall(202 if x86 else 98, ctypes.c_void_p(shared), 1 | 128, 1, 0, 0, 0))
try:
    os.utime("/dev/null")
    print("device times allowed")
except OSError as e:
    print("device times", errno.errorcode[e.errno])
files = 0
try:
    while files < 20000:
        open(f"/tmp/{files}", "w").close()
        files += 1
except OSError:
    pass
print("files capped", files < 20000)
"""
    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        result = sb.run(probe)
    assert result.ok, result.error
    assert result.stdout.splitlines() == [
        "io_setup refused",
        "readahead refused",
        "fadvise refused",
        "cachestat refused",
        "pageout refused refused",
        "dontneed 0",  # what libraries do with memory still works
        "dumpable refused",
        "pipe size refused",
        "limits [(1, 1), (0, 0), (0, 0), (64, 64)]",
        "semaphores True",
        "memfd_secret refused",
        "sysinfo refused",
        "shared futex refused",
        "private futex 0",  # what threads do among themselves still works
        "device times EROFS",
        "files capped True",
    ], result.stdout


CRASH = (
    "import ctypes, os, resource\n"
    "ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)\n"
    "try:\n    resource.setrlimit(resource.RLIMIT_CORE, (-1, -1))\nexcept (ValueError, OSError):\n    pass\n"
    "pid = os.fork()\nif pid == 0:\n    os.abort()\nprint(os.waitpid(pid, 0)[1] & 0x7F)\n"
)


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.access("/proc/sys/kernel/core_pattern", os.W_OK),
    reason="sets the host's core_pattern: needs root and a writable /proc/sys",
)
def test_a_crash_does_not_run_the_hosts_core_helper(tmp_path: Path):
    """A pipe core_pattern runs its helper as root on the host for every dump; a session's crash must not."""
    import time
    import uuid

    marker = Path(f"/tmp/start-tui-core-helper-{uuid.uuid4().hex}")
    pattern = Path("/proc/sys/kernel/core_pattern")
    saved = pattern.read_text()
    try:
        pattern.write_text(f"|/usr/bin/touch {marker}\n")
        # the test can fail: the same crash outside the sandbox runs the helper
        probe = tmp_path / "crash.py"
        probe.write_text(CRASH)
        subprocess.run([sys.executable, str(probe)], capture_output=True, timeout=60)
        for _ in range(50):
            if marker.exists():
                break
            time.sleep(0.1)
        assert marker.exists(), "the host's helper did not run for a crash outside the sandbox"
        marker.unlink()
        with Sandbox(SandboxConfig(language_layer=False)) as sb:
            result = sb.run(CRASH)
        assert result.ok and result.stdout == "6\n", result  # the child died of SIGABRT
        time.sleep(1.0)
        assert not marker.exists()
    finally:
        pattern.write_text(saved)
        marker.unlink(missing_ok=True)


def _dead(pid: int) -> bool:
    """Gone or a zombie: its /proc entry can vanish between the check and the read once its parent reaps it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_session_killed_between_calls_runs_the_next_call_in_a_new_notebook_and_says_so():
    import signal

    from start_tui.engine.reasoner import NOTEBOOK_RESET, format_output

    with Sandbox(SandboxConfig(language_layer=False)) as sb:
        session = sb.session()
        assert session.run("import math\nx = 1").ok
        init = session._child.pids[-1]  # type: ignore[union-attr]
        [runner] = [int(p) for p in Path(f"/proc/{init}/task/{init}/children").read_text().split()]
        os.kill(runner, signal.SIGKILL)  # as the host's OOM killer would
        while not _dead(runner):
            time.sleep(0.01)
        result = session.run("print(math.pi > 3)")
        assert result.state_lost and not result.ok and "NameError: name 'math'" in (result.error or ""), result
        assert NOTEBOOK_RESET in format_output(result, 2000, 5)
        again = session.run("print(2)")
        assert again.ok and again.stdout == "2\n" and not again.state_lost
        session.close()


SESSION_UIDS = """
from pathlib import Path
from start_tui.sandbox import Sandbox, SandboxConfig
with Sandbox(SandboxConfig(language_layer=False)) as sb:
    sessions = [sb.session() for _ in range(3)]
    for s in sessions:
        assert s.run("open('/tmp/mine', 'w').write('x')\\nprint(len(open('/tmp/mine').read()))").stdout == "1\\n"
        init = s._child.pids[-1]
        [runner] = Path(f"/proc/{init}/task/{init}/children").read_text().split()
        status = Path(f"/proc/{runner}/status").read_text().splitlines()
        print(*(line.split()[1] for line in status if line.startswith(("Uid:", "Gid:"))))
    print(sb.isolation.get("subordinate_uids", 0))
    for s in sessions:
        s.close()
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.environ.get("START_TUI_TEST_USER") or not Path("/usr/bin/newuidmap").exists(),
    reason="needs root, START_TUI_TEST_USER and the uidmap tools (.ci/run sets up all three)",
)
def test_through_a_user_namespace_each_session_runs_as_a_subordinate_uid_of_its_own():
    import pwd

    user = os.environ["START_TUI_TEST_USER"]
    entry = pwd.getpwnam(user)
    ranges = [line.split(":") for line in Path("/etc/subuid").read_text().splitlines() if line.startswith(f"{user}:")]
    assert ranges, f"{user} has no subordinate uids in /etc/subuid"
    start, count = int(ranges[0][1]), int(ranges[0][2])
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        ["runuser", "-u", user, "--", "env", f"PYTHONPATH={root}", "HOME=/tmp", sys.executable, "-c", SESSION_UIDS],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/tmp",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    *sessions, mapped = proc.stdout.split("\n")[:-1]
    uids = {int(line.split()[0]) for line in sessions}
    gids = {int(line.split()[1]) for line in sessions}
    assert int(mapped) > 0 and len(sessions) == 3 and len(gids) == 3 and entry.pw_gid not in gids
    # three sessions, three host uids, none of them the user's own, all from the user's range
    assert len(uids) == 3 and entry.pw_uid not in uids and all(start <= u < start + count for u in uids), sessions


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.environ.get("START_TUI_TEST_USER"),
    reason="needs root and START_TUI_TEST_USER, an unprivileged user (.ci/run creates one)",
)
def test_a_sandbox_started_by_a_user_leaves_nothing_in_the_hosts_shared_tmp():
    """matplotlib is imported before the worker is confined: its settings and font cache go to a folder of
    the user's own, never to the shared /tmp (a folder there per start, or one another user made)."""
    import tempfile

    user = os.environ["START_TUI_TEST_USER"]
    home = Path(tempfile.mkdtemp(prefix="start-tui-home-"))  # one the user can reach (pytest's tmp is root's)
    shutil.chown(home, user)
    root = Path(__file__).resolve().parents[2]
    code = (
        "from start_tui.sandbox import Sandbox\n"
        "with Sandbox() as sb:\n"
        "    r = sb.run('import matplotlib.pyplot as plt\\nplt.plot([1, 2])\\nprint(7)')\n"
        "    print(r.stdout.strip(), len(r.figures), sb.isolation['warm_failures'])\n"
    )
    before = set(Path("/tmp").glob("matplotlib-*"))
    proc = subprocess.run(
        ["runuser", "-u", user, "--", "env", f"PYTHONPATH={root}", f"HOME={home}", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/tmp",
    )
    try:
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.split() == ["7", "1", "[]"]
        assert set(Path("/tmp").glob("matplotlib-*")) == before
        assert (home / ".cache" / "start-tui" / "matplotlib").is_dir()
    finally:
        shutil.rmtree(home, ignore_errors=True)
