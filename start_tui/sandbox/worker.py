"""The sandbox's processes: a warm zygote, and per session a supervisor and a confined runner.

    host (client.py) ── control socket ── zygote      imports every allowed module once; in its own
                                                        mount, network, IPC, UTS (and user) namespaces,
                                                        with a minimal root; never runs model code
        per session:  zygote ─fork─> supervisor          outside the session: relays calls, enforces the
                                                        wall clock, builds every reply from what it saw
                      supervisor ─fork─> runner          PID 1 of a new PID namespace, in its own mount,
                                                        IPC, UTS and network namespaces, own /proc and
                                                        scratch /tmp, a fresh uid, rlimits, seccomp;
                                                        runs the model's code (`runner.py`)

The runner reports only whether a call raised (and its traceback) on a pipe; its printed output
comes through two more pipes that the supervisor reads and caps. When the runner dies, its PID
namespace dies with it, every process the code started included, before the supervisor's wait
returns. Between calls the runner is stopped (SIGSTOP); a call that leaves a thread or a process
running ends the session after its reply.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
import select
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any

from start_tui.sandbox import confine
from start_tui.sandbox.protocol import png_size, recv_msg, send_msg

_FRAME = struct.Struct("!I")
_STATUS_LIMIT = 1 << 20  # bytes of one status frame from the runner; more is a broken runner
_DRAIN_LIMIT = 1 << 26  # bytes read after the status frame, at most (a writer that never stops)
_WEAK_FIX = (
    "run start-tui as root, or allow unprivileged user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1 or kernel.apparmor_restrict_unprivileged_userns=0), "
    "or accept a weaker sandbox without namespaces with START_TUI_SANDBOX=weak"
)


def _confine_zygote(config: dict[str, Any], packages: list[str], control: socket.socket) -> dict[str, Any]:
    if config["mode"] == "weak":
        return {"mode": "weak"}
    root = os.geteuid() == 0
    subids: dict[str, list[int]] = config.get("subids") or {}

    def map_subordinate() -> bool:
        send_msg(control, {"map": os.getpid()})
        return bool(recv_msg(control).get("mapped"))

    try:
        mapped = confine.enter_namespaces(user=not root, map_subordinate=map_subordinate if subids else None)
        confine.build_root("/tmp", packages)
        confine.seccomp_filter()  # this architecture has one
    except OSError as exc:
        raise RuntimeError(f"the sandbox cannot confine model code here ({exc}): {_WEAK_FIX}") from None
    info: dict[str, Any] = {"mode": "full", "user_namespace": not root}
    if mapped:
        # inner ids 1.. for sessions, each both a uid and a gid
        info["subordinate_uids"] = min(int(subids["uid"][1]), int(subids["gid"][1])) - 1
    return info


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    config = recv_msg(control)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # Everything the sessions run is imported here, while the host's files are visible.
        from start_tui.sandbox import policy, runner

        modules, warm_failures = policy.preload_modules()
        runner.prepare()
        info = _confine_zygote(config, list(policy.ALLOWED_PACKAGES), control)
        confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != config["parent_pid"]:
            return  # the host died while we were starting
        confine.prctl(confine.PR_SET_DUMPABLE, 0)
        # Ignoring SIGCHLD makes the kernel reap supervisors that end.
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        info["modules"] = len(modules)
        info["warm_failures"] = warm_failures
        send_msg(control, {"ready": True, "isolation": info})
    except Exception as exc:
        send_msg(control, {"ready": False, "error": str(exc) if isinstance(exc, RuntimeError) else repr(exc)})
        return
    sessions = 0
    while True:
        try:
            msg = recv_msg(control)
        except (EOFError, OSError):
            return
        if msg.get("op") != "session":
            return
        sessions += 1
        _fork_session(control, config, info, modules, sessions)


def _fork_session(
    control: socket.socket, config: dict[str, Any], info: dict[str, Any], modules: Any, number: int
) -> None:
    host_end, session_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            control.close()
            host_end.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)
            Supervisor(session_end, config, info, modules, number).serve()
        finally:
            os._exit(0)
    session_end.close()
    socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [host_end.fileno()])
    host_end.close()


class Supervisor:
    """One session, seen from outside it: starts the runner, relays calls, builds the replies."""

    def __init__(
        self, sock: socket.socket, config: dict[str, Any], info: dict[str, Any], modules: Any, number: int = 1
    ) -> None:
        self.sock = sock
        self.config = config
        self.full = info["mode"] == "full"
        self.user_namespace = bool(info.get("user_namespace"))
        # through a user namespace with the host's subordinate uids mapped: a host uid per session
        self.subordinate_uids = int(info.get("subordinate_uids", 0))
        self.number = number
        self.modules = modules
        self.calls = 0
        self.pid: int | None = None  # the session's init (full mode) or the runner (weak mode)
        self.cgroup: confine.SessionCgroup | None = None
        self.runner: int | None = None  # the runner's pid while it is stopped between calls
        self.paused_cpu = -1  # the runner's CPU time when it was stopped: unchanged at the next call

    def serve(self) -> None:
        error = None
        try:
            self._start_runner()
        except OSError as exc:
            error = f"SandboxError: the session could not start ({exc})"
        try:
            send_msg(self.sock, {"runner": self.pid, "error": error, "cgroup": self.cgroup is not None})
            while error is None:
                try:
                    msg = recv_msg(self.sock)
                except (EOFError, OSError, ValueError):
                    break
                if msg.get("op") != "exec":
                    break
                reply = self._call(str(msg.get("code", "")), msg.get("stdin"))
                send_msg(self.sock, reply)
                if reply["ended"]:
                    break
        finally:
            self._end_runner()
            if self.cgroup is not None:
                self.cgroup.remove()

    def _start_runner(self) -> None:
        from start_tui.sandbox import runner

        if self.subordinate_uids:
            uid = 1 + (self.number - 1) % self.subordinate_uids  # distinct among the sessions alive together
            self.config = dict(self.config, own_uid=True)
        else:
            uid = 1000 if self.user_namespace else 100000 + secrets.randbelow(2**30)
        pipes = {name: os.pipe() for name in ("cmd", "status", "out", "err")}
        if self.full:
            confine.unshare(confine.CLONE_NEWPID)
            if not self.user_namespace:
                name = f"{confine.CGROUP_PREFIX}{os.getpid()}"
                processes = int(self.config["max_processes"]) + 2  # the init and the runner come first
                self.cgroup = confine.SessionCgroup.create(name, int(self.config["memory_mb"]), processes)
            if self.cgroup is not None:
                self.cgroup.enter()  # the init forked next is born in it
            else:
                # without a cgroup only rlimits bound memory, per process: keep the processes few
                self.config = dict(self.config, max_processes=min(int(self.config["max_processes"]), 2))
        pid = os.fork()
        if pid == 0:  # the session's init (and from it the runner), or in weak mode the runner: never returns
            code = 1
            try:
                # the session dies with its supervisor: PID 1 of a namespace ignores a signal it has no
                # handler for, and nothing else would keep the code within its deadline
                confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)
                self.sock.close()
                for name, (r, w) in pipes.items():
                    os.close(w if name == "cmd" else r)
                if _hung_up(pipes["cmd"][0]):
                    return  # the supervisor died before the death signal was set (os._exit below)
                fds = (pipes["cmd"][0], pipes["status"][1], pipes["out"][1], pipes["err"][1])
                if self.full:
                    code = runner.init(self.config, self.modules, fds, uid=uid, user_ns=self.user_namespace)
                else:
                    runner.serve(self.config, self.modules, fds, uid=uid, full=False, user_namespace=False)
                    code = 0
            except BaseException:
                traceback.print_exc()  # to the worker's stderr: shown with START_TUI_SANDBOX_DEBUG=1
            finally:
                os._exit(code)
        self.pid = pid
        if self.cgroup is not None:
            self.cgroup.leave()
        for name, (r, w) in pipes.items():
            os.close(r if name == "cmd" else w)
        self.cmd = pipes["cmd"][1]
        self.status, self.out, self.err = pipes["status"][0], pipes["out"][0], pipes["err"][0]
        # never blocking, the command pipe included: the code can shrink it and stop reading it
        for fd in (self.cmd, self.status, self.out, self.err):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)

    def _call(self, code: str, stdin: Any) -> dict[str, Any]:
        self.calls += 1
        start = time.monotonic()
        stale = _read(self.status)
        if stale is not None:
            # the previous call went on writing to the report channel after its report (or the runner
            # is gone): nothing it says can be told from what the runner would say; the notebook ends
            how = self._end_runner()
            if not stale:
                # it died while paused (killed from outside the session): this call has not run, and
                # the host runs it again in a new session, telling the model its notebook was reset
                return _ended_reply(f"SandboxError: the code's process died between calls ({how})", start, "lost")
            why = "the previous call kept running and wrote to the sandbox's report channel; the session was ended"
            return _ended_reply(f"SandboxError: {why}", start)
        if self.runner is not None:
            proc = f"{confine.OLD_ROOT}/proc" if self.full else "/proc"
            state = _state(proc, self.runner)
            if state in ("Z", "X"):
                how = self._end_runner()
                return _ended_reply(f"SandboxError: the code's process died between calls ({how})", start, "lost")
            if state != "T" or _cpu(proc, self.runner) != self.paused_cpu:
                # stopped, it cannot run; it did (a signal it arranged continued it): it may have done
                # anything since the last reply, and nothing it says from now on can be trusted
                self._end_runner()
                return _ended_reply(
                    "SandboxError: the previous call's code ran while the session was paused; the session was ended",
                    start,
                )
            os.kill(self.runner, signal.SIGCONT)
            self.runner = None
        deadline = start + float(self.config["timeout_s"])
        limit = int(self.config["output_limit"])
        streams = {self.out: bytearray(), self.err: bytearray()}
        dropped = {self.out: 0, self.err: 0}
        status = bytearray()
        seen: list[bool] = []  # frames that were not this call's report
        # the report must carry this call's nonce: frames written ahead of time for later calls are not taken
        call_id = f"{self.calls}-{secrets.token_hex(8)}"
        frame = json.dumps({"call": call_id, "code": code, "stdin": stdin if isinstance(stdin, str) else None})
        pending = memoryview(_FRAME.pack(len(frame.encode())) + frame.encode())
        reply: dict[str, Any] | None = None
        ended: str | None = None
        timed_out = False
        open_fds = {self.status, self.out, self.err}

        def take(fd: int, data: bytes) -> None:
            buf = streams[fd]
            room = max(0, limit - len(buf))
            buf += data[:room]
            dropped[fd] += len(data) - min(len(data), room)

        while reply is None:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            poller = select.poll()
            for fd in open_fds:
                poller.register(fd, select.POLLIN)
            if pending:
                poller.register(self.cmd, select.POLLOUT)
            events = poller.poll(max(1, int(left * 1000)))
            for fd, _event in events:
                if fd == self.cmd:
                    try:
                        pending = pending[os.write(self.cmd, pending[: 1 << 16]) :]
                    except BlockingIOError:
                        pass
                    except OSError:
                        pending = memoryview(b"")
                    continue
                data = _read(fd)
                if data is None:
                    continue
                if not data:
                    open_fds.discard(fd)
                    continue
                if fd == self.status:
                    status += data
                    if len(status) > _STATUS_LIMIT:
                        break
                    reply = _parse_status(status, call_id, seen)
                else:
                    take(fd, data)
            if self.status not in open_fds and reply is None:
                break  # the runner died (or closed its status pipe)
            if len(status) > _STATUS_LIMIT:
                break
        if reply is not None and (seen or status or _read(self.status) is not None):
            ended = "the code wrote to the sandbox's report channel"
        if reply is not None:
            # what was printed before the status frame is already in the pipes
            for fd in (self.out, self.err):
                total = 0
                while total < _DRAIN_LIMIT and (data := _read(fd)):
                    take(fd, data)
                    total += len(data)
            ended = ended or self._pause()
        elif timed_out:
            self._end_runner()
            reply = {
                "ok": False,
                "error": (
                    f"TimeoutError: the code did not finish within {self.config['timeout_s']:g} s and was stopped"
                ),
            }
            ended = "timeout"
        else:
            how = self._end_runner()
            reply = {"ok": False, "error": f"SandboxError: the code's process died ({how})"}
            ended = "died"
        return {
            "ok": bool(reply["ok"]),
            "stdout": bytes(streams[self.out]).decode("utf-8", "replace"),
            "stderr": bytes(streams[self.err]).decode("utf-8", "replace"),
            "error": reply["error"],
            "timed_out": timed_out,
            "duration_s": time.monotonic() - start,
            "truncated_chars": dropped[self.out],
            "ended": ended,
            "figures": reply.get("figures", []),
            "figures_dropped": reply.get("figures_dropped", 0),
        }

    def _pause(self) -> str | None:
        """Stop the runner until the next call, and say why the session must end instead, if it must.

        Between calls nothing of the session may run: the runner is stopped (SIGSTOP), so code that
        reported its end and went on cannot compute past its deadline, and a thread or a process
        left behind (an orphan is a second child of the init) ends the session.
        """
        proc = f"{confine.OLD_ROOT}/proc" if self.full else "/proc"
        if self.pid is None:
            return "the session has ended"
        try:
            runner = self.pid
            if self.full:
                children = _live_children(proc, runner)
                if len(children) != 1:
                    return "the code left processes running"
                runner = children[0]
            os.kill(runner, signal.SIGSTOP)
            deadline = time.monotonic() + 1.0
            while _state(proc, runner) != "T":
                if time.monotonic() > deadline:
                    return "the session's runner could not be paused"
                time.sleep(0.0005)
            self.runner = runner
            self.paused_cpu = _settled_cpu(proc, runner)
            with open(f"{proc}/{runner}/status") as f:
                threads = next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
            if threads > 1 or _live_children(proc, runner):
                return "the code left threads or processes running"
            if self.full and len(_live_children(proc, self.pid)) != 1:
                return "the code left processes running"
        except (OSError, StopIteration, ValueError):
            return "the session's state could not be checked"
        return None

    def _end_runner(self) -> str:
        pid, self.pid, self.runner = self.pid, None, None
        if pid is None:
            return "not started"
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        # the runner is PID 1 of its namespace: when this wait returns, everything in it is gone
        while True:
            try:
                _pid, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                return "gone"
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            return f"killed by {name}: it hit a sandbox limit" if sig != signal.SIGKILL else "it hit a sandbox limit"
        return f"exit status {os.WEXITSTATUS(status)}"


def _ended_reply(error: str, start: float, ended: str = "forged") -> dict[str, Any]:
    return {
        "ok": False,
        "stdout": "",
        "stderr": "",
        "error": error,
        "timed_out": False,
        "duration_s": time.monotonic() - start,
        "truncated_chars": 0,
        "ended": ended,
    }


def _state(proc: str, pid: int) -> str:
    """The process's state letter (R, S, T, Z...), or X when it is gone."""
    try:
        with open(f"{proc}/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def _alive(proc: str, pid: int) -> bool:
    """Whether any thread of the process still runs: a leader that ended by itself shows Z while
    another of its threads goes on."""
    if _state(proc, pid) not in ("Z", "X"):
        return True
    try:
        tasks = os.listdir(f"{proc}/{pid}/task")
    except OSError:
        return False
    return any(_state(f"{proc}/{pid}/task", int(t)) not in ("Z", "X") for t in tasks if t.isdigit())


def _cpu(proc: str, pid: int) -> int:
    """The process's time on a CPU so far: nanoseconds where the kernel keeps them, else clock ticks."""
    try:
        with open(f"{proc}/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f"{proc}/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return -1


def _settled_cpu(proc: str, pid: int) -> int:
    """`_cpu` of a process that has just stopped, once the switch away from it is accounted."""
    last = _cpu(proc, pid)
    for _ in range(20):
        time.sleep(0.0005)
        now = _cpu(proc, pid)
        if now == last:
            return now
        last = now
    return last


def _live_children(proc: str, pid: int) -> list[int]:
    with open(f"{proc}/{pid}/task/{pid}/children") as f:
        children = [int(p) for p in f.read().split()]
    return [child for child in children if _alive(proc, child)]


def _hung_up(fd: int) -> bool:
    """Whether every writer of the pipe whose read end is `fd` is gone."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return any(event & select.POLLHUP for _fd, event in poller.poll(0))


def _read(fd: int) -> bytes | None:
    """What the pipe holds now (b"" at its end, None when it is merely empty)."""
    try:
        return os.read(fd, 1 << 16)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


def _parse_status(buf: bytearray, call_id: str, seen: list[bool]) -> dict[str, Any] | None:
    """The runner's report of this call, once a whole frame for it has arrived; other frames are noted and dropped."""
    while len(buf) >= _FRAME.size:
        (n,) = _FRAME.unpack_from(buf)
        if len(buf) < _FRAME.size + n:
            return None
        raw = bytes(buf[_FRAME.size : _FRAME.size + n])
        del buf[: _FRAME.size + n]
        try:
            msg = json.loads(raw)
        except (ValueError, RecursionError):  # a frame nested past the parser's depth is no report either
            msg = None
        if not isinstance(msg, dict) or msg.get("call") != call_id:
            seen.append(True)
            continue
        error = msg.get("error")
        figures, dropped = _figures(msg.get("figures"), msg.get("figures_dropped"))
        return {
            "ok": msg.get("ok") is True and error is None,
            "error": str(error)[:20000] if error else None,
            "figures": figures,
            "figures_dropped": dropped,
        }
    return None


def _figures(raw: Any, dropped: Any) -> tuple[list[str], int]:
    """The runner's figures that are PNG images (base64, as it sent them); the rest count as dropped.

    The runner is the model's process: anything here may be forged, so only the shape is trusted, and
    the host reads no more of a figure than its PNG header (`png_size`)."""
    if not isinstance(raw, list):
        return [], 0
    kept = []
    for item in raw[:16]:
        try:
            data = base64.b64decode(item, validate=True) if isinstance(item, str) else b""
        except ValueError:
            data = b""
        if png_size(data) is not None:
            kept.append(item)
    lost = dropped if isinstance(dropped, int) and not isinstance(dropped, bool) and 0 <= dropped < 1 << 20 else 0
    return kept, lost + len(raw) - len(kept)


if __name__ == "__main__":
    main()
    # The zygote holds every allowed module: an orderly interpreter teardown of them would be most of
    # the time a sandbox takes to close, and none of it is needed (each session is its own process).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
