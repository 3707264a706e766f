"""The host side of the sandbox: start the warm worker, open notebook sessions.

`Sandbox` owns one worker process (see `worker.py`); `Sandbox.session()` gives a `Session` whose
variables persist across `run` calls, like a notebook. Each session is a supervisor process and a
confined runner; the supervisor enforces the wall clock and ends the session when a call overruns
it (or leaves threads or processes behind), and the next call starts a fresh one. Closing a
session waits until every process of it is gone.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from start_tui.errors import StartTuiError
from start_tui.sandbox.protocol import recv_msg, send_msg

_START_TIMEOUT_S = 60.0
_SUPERVISOR_GRACE_S = 5.0
_END_WAIT_S = 3.0

_starter: tuple[int, queue.SimpleQueue[tuple[Any, Any, Future[Any]]]] | None = None
"""The thread that starts workers: (the pid it belongs to, its queue of requests)."""
_starter_lock = threading.Lock()


def _start_process(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
    """`subprocess.Popen` on one thread that lives as long as this process. The worker asks the kernel to
    kill it when its parent ends (PR_SET_PDEATHSIG), and the kernel's parent is the thread that started
    it: a worker started lazily from a thread that then finishes (a run's thread, one of several problems
    in flight) would die under the sandbox's other sessions. A daemon thread of our own, not an executor:
    interpreter shutdown joins an executor's thread before the program's other threads end, and its
    workers would die under calls still running. A forked child starts its own thread (the parent's is
    not in it)."""
    global _starter
    with _starter_lock:
        if _starter is None or _starter[0] != os.getpid():
            requests: queue.SimpleQueue[tuple[Any, Any, Future[Any]]] = queue.SimpleQueue()
            threading.Thread(target=_serve_starts, args=(requests,), name="sandbox-start", daemon=True).start()
            _starter = (os.getpid(), requests)
        requests = _starter[1]
    done: Future[Any] = Future()
    requests.put((args, kwargs, done))
    return cast("subprocess.Popen[bytes]", done.result())


def _serve_starts(requests: queue.SimpleQueue[tuple[Any, Any, Future[Any]]]) -> None:
    while True:
        args, kwargs, done = requests.get()
        try:
            done.set_result(subprocess.Popen(*args, **kwargs))
        except BaseException as exc:  # raised again on the thread that asked
            done.set_exception(exc)


@dataclass
class SandboxConfig:
    """Limits of the sandbox; every model code call runs under all of them."""

    timeout_s: float = 10.0
    """Wall-clock seconds one call may take; past it the session's processes are killed."""
    memory_mb: int = 2048
    """Address-space limit of a session process (RLIMIT_AS), in MiB."""
    file_size_mb: int = 16
    """Largest file a session may write (RLIMIT_FSIZE), in MiB; it can only write to its private tmpfs."""
    scratch_mb: int = 64
    """Size of each session's private /tmp (a tmpfs), in MiB."""
    max_processes: int = 8
    """Processes and threads of a session (RLIMIT_NPROC of its own uid)."""
    output_limit: int = 65536
    """Characters of printed output kept per call; the rest is counted and dropped."""
    persist: bool = True
    """Keep variables across the calls of one session (notebook-like); False gives a fresh session per call."""
    display: bool = False
    """Show the value of a cell's last bare expression, as a notebook does (the model's tool calls and
    `start-tui exec`); False runs each call as a script (the graders, `start-tui exec --script`)."""
    language_layer: bool = True
    """Compile model code under the RestrictedPython policy; False runs it as plain Python (the process
    layer still holds it)."""
    mode: str = field(default_factory=lambda: os.environ.get("START_TUI_SANDBOX", "full"))
    """"full": namespaces, minimal root, seccomp, a uid per session (refused where the host cannot);
    "weak": rlimits only, for hosts without namespaces (START_TUI_SANDBOX=weak): the code can reach your
    files and network there, since the language layer is no protection."""


@dataclass
class ExecResult:
    """What one call gave back: `start-tui exec --json` prints exactly these fields."""

    ok: bool
    stdout: str
    error: str | None
    timed_out: bool
    duration_s: float
    truncated_chars: int = 0
    state_lost: bool = False
    stderr: str = ""
    figures: list[bytes] = field(default_factory=list)
    """The matplotlib figures the call left open, as PNG images (their header checked: `png_size`)."""
    figures_dropped: int = 0
    """Figures past the limits of one call, or that could not be drawn."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    control: socket.socket
    isolation: dict[str, Any] = field(default_factory=dict)


class Sandbox:
    """One warm worker process shared by any number of sessions (thread-safe)."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._sessions: set[Session] = set()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """Whether the worker process is up (after `start` or the first call, until `close`)."""
        return self._worker is not None

    @property
    def isolation(self) -> dict[str, Any]:
        return dict(self._worker.isolation) if self._worker else {}

    def start(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = self._spawn()

    def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[2])
        if self.config.mode not in ("full", "weak"):
            raise StartTuiError(f"Unknown sandbox mode {self.config.mode!r}: use 'full' or 'weak'.")
        config = {
            "mode": self.config.mode,
            "language_layer": self.config.language_layer,
            "display": self.config.display,
            "timeout_s": self.config.timeout_s,
            "parent_pid": os.getpid(),
            "memory_mb": self.config.memory_mb,
            "file_size_mb": self.config.file_size_mb,
            "scratch_mb": self.config.scratch_mb,
            "max_processes": self.config.max_processes,
            "output_limit": self.config.output_limit,
        }
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONPATH": package_root,
            "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "HOME": "/tmp/start-tui-sandbox",
        }
        if mpl := _matplotlib_dir():
            env["MPLCONFIGDIR"] = mpl
        subids = _subordinate_ids() if self.config.mode == "full" and os.geteuid() != 0 else None
        if subids:
            config["subids"] = subids
        theirs_fd = theirs.fileno()
        # the configuration goes over the socket, not the command line, which the code could read
        proc = _start_process(
            [sys.executable, "-m", "start_tui.sandbox.worker", str(theirs_fd)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("START_TUI_SANDBOX_DEBUG") else subprocess.DEVNULL,
            env=env,
            pass_fds=(theirs_fd,),
            close_fds=True,
            # a session and process group of its own: no signal the code sends to its group reaches us
            start_new_session=True,
        )
        theirs.close()
        ours.settimeout(_START_TIMEOUT_S)
        try:
            send_msg(ours, config)
            hello = recv_msg(ours)
            if "map" in hello:  # the worker is in its new user namespace: map the subordinate ids into it
                send_msg(ours, {"mapped": _map_subordinate_ids(int(hello["map"]), subids or {})})
                hello = recv_msg(ours)
        except (EOFError, OSError) as exc:
            proc.kill()
            proc.wait()
            raise StartTuiError(f"The sandbox worker did not start ({exc}).") from None
        if not hello.get("ready"):
            proc.kill()
            proc.wait()
            raise StartTuiError(f"The sandbox could not start: {hello.get('error')}.")
        ours.settimeout(None)
        return _Worker(proc, ours, hello.get("isolation", {}))

    def session(self) -> Session:
        """A new notebook session (a confined child process forked from the warm worker)."""
        session = Session(self)
        with self._lock:
            self._sessions.add(session)
        return session

    def _open_child(self) -> _Child:
        with self._lock:
            if self._worker is None:
                self._worker = self._spawn()
            worker = self._worker
            try:
                send_msg(worker.control, {"op": "session"})
                worker.control.settimeout(_START_TIMEOUT_S)
                data, fds, _flags, _addr = socket.recv_fds(worker.control, 4096, 1)
            except OSError as exc:
                self._kill_worker()
                raise StartTuiError(f"The sandbox worker stopped answering ({exc}).") from None
            if not fds:
                self._kill_worker()
                raise StartTuiError("The sandbox worker could not start a session.")
        sock = socket.socket(fileno=fds[0])
        pid = json.loads(data)["pid"]
        child = _Child(sock, [pid], [_pidfd(pid)])
        try:
            sock.settimeout(_START_TIMEOUT_S)
            hello = recv_msg(sock)
        except (EOFError, OSError) as exc:
            child.end()
            raise StartTuiError(f"The sandbox session did not start ({exc}).") from None
        if hello.get("runner"):
            child.pids.append(hello["runner"])
            child.pidfds.append(_pidfd(hello["runner"]))
        if hello.get("error"):
            child.end()
            raise StartTuiError(f"{hello['error']}.")
        return child

    def run(self, code: str, stdin: str | None = None) -> ExecResult:
        """Run code once in a fresh session (what `start-tui exec` does); `stdin` is what `input()` reads."""
        session = self.session()
        try:
            return session.run(code, stdin)
        finally:
            session.close()

    def _forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.discard(session)

    def _kill_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.control.close()
        if worker.proc.poll() is None:
            worker.proc.kill()
        worker.proc.wait()

    def close(self) -> None:
        for session in list(self._sessions):
            session.close()
        with self._lock:
            worker = self._worker
            if worker is not None:
                with contextlib.suppress(OSError):
                    send_msg(worker.control, {"op": "exit"})
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.proc.wait(timeout=2)
            self._kill_worker()


def _matplotlib_dir() -> str | None:
    """A folder of this user's own for matplotlib's settings and font cache, which the worker reads and
    writes before it is confined (None where none can be made). Without it matplotlib uses the worker's
    HOME in the host's shared /tmp, where another user may have made it first, and where it cannot write
    it makes a /tmp/matplotlib-* folder that nothing removes."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "start-tui" / "matplotlib"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return str(folder) if os.access(folder, os.W_OK) else None


def _subordinate_ids() -> dict[str, list[int]] | None:
    """This user's subordinate uid and gid ranges (/etc/subuid, /etc/subgid), where the host offers
    them and the setuid `newuidmap` and `newgidmap` that map them are installed; else None."""
    import pwd

    if not (shutil.which("newuidmap", path="/usr/bin:/bin") and shutil.which("newgidmap", path="/usr/bin:/bin")):
        return None
    uid = os.getuid()
    try:
        names = {str(uid), pwd.getpwuid(uid).pw_name}
    except KeyError:
        names = {str(uid)}
    ranges: dict[str, list[int]] = {}
    for kind, path in (("uid", "/etc/subuid"), ("gid", "/etc/subgid")):
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            parts = line.strip().split(":")
            usable = len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit() and int(parts[2]) >= 2
            if usable and parts[0] in names:
                ranges[kind] = [int(parts[1]), int(parts[2])]
                break
    return ranges if len(ranges) == 2 else None


def _map_subordinate_ids(pid: int, subids: dict[str, list[int]]) -> bool:
    """Map, in the user namespace of process `pid`, 0 to us and 1.. to our subordinate ids."""
    for kind, own in (("uid", os.getuid()), ("gid", os.getgid())):
        start, count = subids[kind]
        tool = shutil.which(f"new{kind}map", path="/usr/bin:/bin")
        if tool is None:
            return False
        cmd = [tool, str(pid), "0", str(own), "1", "1", str(start), str(count)]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=10, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.TimeoutExpired):
            return False
        if done.returncode != 0:
            return False
    return True


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None  # already gone


@dataclass
class _Child:
    """A session's processes as the host holds them: its socket and a pidfd per process."""

    sock: socket.socket
    pids: list[int]
    pidfds: list[int | None]

    def end(self) -> None:
        """Close the session and wait until its supervisor and runner (and so all it ran) are gone."""
        self.sock.close()
        if not self._wait(_END_WAIT_S):  # the supervisor ends the runner on its own when the socket closes
            for fd in self.pidfds:
                if fd is not None:
                    with contextlib.suppress(OSError):
                        signal.pidfd_send_signal(fd, signal.SIGKILL)
            self._wait(_END_WAIT_S)
        for fd in self.pidfds:
            if fd is not None:
                os.close(fd)
        self.pidfds = []

    def _wait(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        for fd in self.pidfds:
            if fd is None:
                continue
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(max(0, int((deadline - time.monotonic()) * 1000))):
                return False
        return True


class Session:
    """A notebook: calls share variables (unless `persist` is off) until `close` or a timeout."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._child: _Child | None = None
        self._lock = threading.Lock()
        self._calls = 0

    def run(self, code: str, stdin: str | None = None) -> ExecResult:
        """Run a cell; with `stdin`, the code reads it through `input()` and `sys.stdin` (a program's run)."""
        with self._lock:
            return self._run(code, stdin)

    def _run(self, code: str, stdin: str | None = None) -> ExecResult:
        config = self.sandbox.config
        state_lost = False
        if self._child is not None and not config.persist:
            self._end_child()
        start = time.monotonic()
        for attempt in range(2):
            if self._child is None:
                state_lost = state_lost or (self._calls > 0 and config.persist)
                self._child = self.sandbox._open_child()
            answer = self._exchange(code, stdin, start, state_lost)
            if isinstance(answer, ExecResult):
                return answer
            reply = answer
            if reply.get("ended") != "lost" or attempt:
                break
            # the session died between calls without running this one: run it in a new session
            self._end_child()
            state_lost = True
        if reply.get("ended"):
            self._end_child()
        self._calls += 1
        return ExecResult(
            ok=reply["ok"],
            stdout=reply["stdout"],
            error=reply["error"],
            timed_out=reply["timed_out"],
            duration_s=time.monotonic() - start,
            truncated_chars=reply.get("truncated_chars", 0),
            state_lost=state_lost,
            stderr=reply.get("stderr", ""),
            figures=[base64.b64decode(f) for f in reply.get("figures", [])],
            figures_dropped=reply.get("figures_dropped", 0),
        )

    def _exchange(self, code: str, stdin: str | None, start: float, state_lost: bool) -> dict[str, Any] | ExecResult:
        """The supervisor's reply to one call, or the result to give when the supervisor stopped answering."""
        assert self._child is not None
        config = self.sandbox.config
        sock = self._child.sock
        # the supervisor enforces the timeout; this one only catches a supervisor that stopped answering
        sock.settimeout(config.timeout_s + _SUPERVISOR_GRACE_S)
        try:
            send_msg(sock, {"op": "exec", "code": code, "stdin": stdin})
            reply = recv_msg(sock)
        except (EOFError, OSError) as exc:
            self._end_child()
            self._calls += 1
            return ExecResult(
                ok=False,
                stdout="",
                error=f"SandboxError: the sandbox session stopped answering ({exc or type(exc).__name__})",
                timed_out=isinstance(exc, TimeoutError),
                duration_s=time.monotonic() - start,
                state_lost=state_lost,
            )
        return reply

    def _end_child(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.end()

    def close(self) -> None:
        with self._lock:
            self._end_child()
        self.sandbox._forget(self)
