"""The sandbox process: a warm zygote that forks one confined child per notebook session.

Started by `client.Sandbox` as `python -m start_tui.sandbox.worker CONFIG_JSON` with a clean
environment and the control socket's fd in the config. As root it enters new network, mount, IPC and UTS
namespaces, covers /tmp, /var/tmp and /dev/shm with private tmpfs, imports every allowed module,
then drops to an unprivileged uid with rlimits. Each session child installs an audit hook that
fails closed, and runs code in a RestrictedPython namespace that persists across calls.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import linecache
import os
import resource
import signal
import socket
import sys
import time
import traceback
from typing import Any

from start_tui.sandbox.protocol import recv_msg, send_msg

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REC = 0x4000
MS_PRIVATE = 0x40000

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, arg: int) -> None:
    if _libc.prctl(option, arg, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _unshare(flags: int) -> bool:
    return _libc.unshare(flags) == 0


def _mount(source: bytes, target: bytes, fstype: bytes | None, flags: int, data: bytes | None) -> bool:
    return _libc.mount(source, target, fstype, flags, data) == 0


def _isolate(config: dict[str, Any]) -> dict[str, Any]:
    """Enter namespaces and hide the host's writable temp folders; report what held."""
    info: dict[str, Any] = {"root": os.geteuid() == 0, "network": False, "tmpfs": False}
    if os.geteuid() == 0:
        if _unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS):
            info["network"] = True
            if _mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None):
                ok = True
                for path in (b"/tmp", b"/var/tmp", b"/dev/shm"):
                    if os.path.isdir(path):
                        size = f"size={config['scratch_mb']}m,mode=1777".encode()
                        ok &= _mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV, size)
                info["tmpfs"] = ok
    elif _unshare(CLONE_NEWUSER | CLONE_NEWNET):
        info["network"] = True
    return info


def _drop_privileges(uid: int) -> bool:
    if os.geteuid() != 0:
        return False
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    return True


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    _cur_soft, cur_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if cur_hard != resource.RLIM_INFINITY:
        hard = min(hard, cur_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def _count_tasks_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return count


class CpuLimitExceeded(BaseException):
    """Raised in the session child on SIGXCPU; a BaseException so model code cannot swallow it."""


def _on_sigxcpu(signum: int, frame: Any) -> None:
    raise CpuLimitExceeded()


_SENSITIVE_ATTRIBUTES = frozenset(
    {"__code__", "__class__", "__bases__", "__globals__", "__builtins__", "__dict__", "__closure__"}
)


def _install_audit_hook(permits: dict[str, int]) -> None:
    """Fail closed: after this, only the events ordinary computation raises are let through."""
    quiet = frozenset({"sys._getframe", "object.__getattr__", "builtins.id", "time.sleep", "sys._getframemodulename"})
    trusted_code_callers = frozenset({"collections"})

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in quiet:
            return
        if event in ("compile", "exec"):
            # compiling is allowed while the runner compiles (a parse and a compile); exec once
            if permits[event] > 0:
                if event == "exec":
                    permits[event] -= 1
                return
            caller = sys._getframe(1).f_globals.get("__name__")
            if caller in trusted_code_callers:
                return
            raise PermissionError("the sandbox does not allow turning strings into code (eval/exec/compile)")
        # raised by libraries building classes and functions (namedtuple); the names that would
        # rewire code or classes stay closed
        if event in ("object.__setattr__", "object.__delattr__") and args[1] not in _SENSITIVE_ATTRIBUTES:
            return
        if event == "open":
            raise PermissionError("the sandbox has no file access")
        if event == "import":
            raise PermissionError(f"module '{args[0]}' is not available in the sandbox")
        raise PermissionError(f"the sandbox does not allow '{event}'")

    sys.addaudithook(hook)


def _format_error(exc: BaseException, cells: set[str]) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in cells]
    lines = ["Traceback (most recent call last):"]
    for f in frames[-3:]:
        lines.append(f'  File "{f.filename}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"    {f.line}")
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "\n".join(line.rstrip("\n") for line in lines)


class Session:
    """The state of one notebook: a namespace and its output buffer, in the session child."""

    def __init__(self, modules: dict[str, Any], config: dict[str, Any], permits: dict[str, int]) -> None:
        from start_tui.sandbox import policy

        self.policy = policy
        self.modules = modules
        self.config = config
        self.permits = permits
        self.output = policy.OutputBuffer(config["output_limit"])
        self.namespace = policy.new_namespace(modules, self.output)
        self.cells: set[str] = set()

    def run(self, code: str, stdin: str | None = None) -> dict[str, Any]:
        if stdin is not None:
            self.policy.attach_stdin(self.namespace, self.output, stdin)
        name = f"<cell {len(self.cells) + 1}>"
        self.cells.add(name)
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        start = time.monotonic()
        error: str | None = None
        timed_out = False
        budget = self.config["cpu_s"]
        used = resource.getrusage(resource.RUSAGE_SELF)
        used_s = int(used.ru_utime + used.ru_stime) + 1
        with contextlib.suppress(ValueError, OSError):
            _set_limit(resource.RLIMIT_CPU, used_s + budget, used_s + budget + 1)
        try:
            self.permits["compile"] += 1
            try:
                compiled = self.policy.compile_code(code, name)
            finally:
                self.permits["compile"] = 0
            self.permits["exec"] += 1
            exec(compiled, self.namespace)
        except self.policy.CompileError as exc:
            error = f"SyntaxError: {exc}"
        except CpuLimitExceeded:
            timed_out = True
            error = f"TimeoutError: the code used more than {budget} s of CPU time"
        except SystemExit as exc:  # sys.exit() in a program: a non-zero code is a failure
            if exc.code not in (0, None):
                error = f"SystemExit: {exc.code}"
        except RecursionError as exc:
            error = _format_error(exc, self.cells)
        except MemoryError:
            error = "MemoryError: the code ran out of memory (sandbox memory limit)"
        except BaseException as exc:
            error = _format_error(exc, self.cells)
        finally:
            self.permits["exec"] = 0
        stdout, dropped = self.output.take()
        return {
            "ok": error is None,
            "stdout": stdout,
            "error": error,
            "timed_out": timed_out,
            "duration_s": time.monotonic() - start,
            "truncated_chars": dropped,
        }


def _serve_session(sock: socket.socket, modules: dict[str, Any], config: dict[str, Any]) -> None:
    permits = {"compile": 0, "exec": 0}
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    _set_limit(resource.RLIMIT_AS, config["memory_mb"] * 1024 * 1024)
    sys.setrecursionlimit(3000)
    session = Session(modules, config, permits)
    _install_audit_hook(permits)
    while True:
        try:
            msg = recv_msg(sock)
        except (EOFError, OSError):
            return
        if msg.get("op") == "exec":
            send_msg(sock, session.run(msg["code"], msg.get("stdin")))
        elif msg.get("op") == "reset":
            session = Session(modules, config, permits)
            send_msg(sock, {"ok": True})
        else:
            return


def _fork_session(control: socket.socket, modules: dict[str, Any], config: dict[str, Any]) -> None:
    parent_end, child_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            control.close()
            parent_end.close()
            os.setpgid(0, 0)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            _serve_session(child_end, modules, config)
        finally:
            os._exit(0)
    child_end.close()
    socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [parent_end.fileno()])
    parent_end.close()


def main() -> None:
    config = json.loads(sys.argv[1])
    control = socket.socket(fileno=config["control_fd"])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # Import everything while the files are visible: the tmpfs mounted over /tmp next would hide
        # a checkout or a virtual environment that lives there.
        from start_tui.sandbox import policy

        modules = policy.preload_modules()
        info = _isolate(config)
        scratch = "/tmp/start-tui-sandbox"
        os.makedirs(scratch, exist_ok=True)
        # Ignoring SIGCHLD makes the kernel reap session children that end.
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        uid = config["uid"]
        if os.geteuid() == 0:
            os.chown(scratch, uid, uid)
        os.chdir(scratch)
        _set_limit(resource.RLIMIT_FSIZE, config["file_size_mb"] * 1024 * 1024)
        _set_limit(resource.RLIMIT_NOFILE, 256)
        _set_limit(resource.RLIMIT_CORE, 0)
        dropped = _drop_privileges(uid)
        own_tasks = 0 if dropped else _count_tasks_of(os.getuid())
        _set_limit(resource.RLIMIT_NPROC, own_tasks + config["max_processes"])
        _prctl(PR_SET_DUMPABLE, 0)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != config["parent_pid"]:
            return  # the parent died while we were starting
        os.environ.clear()
        info.update(uid=os.getuid(), dropped_privileges=dropped, modules=len(modules))
        send_msg(control, {"ready": True, "isolation": info})
    except Exception as exc:
        send_msg(control, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    while True:
        try:
            msg = recv_msg(control)
        except (EOFError, OSError):
            return
        if msg.get("op") == "session":
            _fork_session(control, modules, config)
        else:
            return


if __name__ == "__main__":
    main()
