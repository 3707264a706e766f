"""The runner: the process that runs the model's code, confined before the first cell.

It starts as PID 1 of a new PID namespace (forked by the supervisor, see `worker.py`) and, still
trusted, gives itself new mount, IPC, UTS and network namespaces, its own `/proc` and a scratch
`/tmp`, detaches the host's root, takes the session's uid, lowers its limits and installs the
seccomp filter. Then it runs cells: with the language layer (RestrictedPython, `policy.py`) by
default, or as plain Python; with `display` on, a cell's last bare expression shows its value, as in
a notebook. Printed output goes to its stdout and stderr pipes; after each cell
it writes one status frame (did the cell raise, and its traceback) to the status pipe.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import io
import json
import linecache
import os
import resource
import signal
import struct
import sys
import traceback
import types
from typing import Any

from start_tui.sandbox import confine

_FRAME = struct.Struct("!I")
CMD_FD, STATUS_FD = 3, 4
MAX_FIGURES = 8
MAX_FIGURE_BYTES = 600_000
"""PNG bytes of the figures of one call, together: their base64 stays inside the status frame's limit."""


def prepare() -> None:
    """Import in the zygote what a runner needs later, while the host's files are visible."""
    import codecs
    import encodings.utf_8  # noqa: F401

    codecs.lookup("utf-8")
    traceback.format_exception_only(ValueError, ValueError("x"))


def _set_limit(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def init(config: dict[str, Any], modules: Any, fds: tuple[int, int, int, int], *, uid: int, user_ns: bool) -> int:
    """PID 1 of a session: give it its own namespaces, mounts and /proc, start the runner, reap until it ends.

    When this process ends, the kernel kills everything left in the session's PID namespace.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # a session and process group of its own: a signal the code sends to "its group" (kill(0, ...))
    # stays inside this PID namespace
    os.setsid()
    confine.unshare(
        confine.CLONE_NEWNS
        | confine.CLONE_NEWIPC
        | confine.CLONE_NEWUTS
        | confine.CLONE_NEWNET
        | confine.CLONE_NEWCGROUP
    )
    confine.limit_ipc(int(config["scratch_mb"]))
    own_uid = not user_ns or bool(config.get("own_uid"))
    confine.enter_session_root(int(config["scratch_mb"]), owner=uid if own_uid else 0)
    confine.prctl(confine.PR_SET_DUMPABLE, 0)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            serve(config, modules, fds, uid=uid, full=True, user_namespace=user_ns)
            code = 0
        except BaseException:
            traceback.print_exc()  # to the worker's stderr: shown with START_TUI_SANDBOX_DEBUG=1
        finally:
            os._exit(code)
    confine.close_fds_except(())
    while True:
        try:
            child, status = os.wait()
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if child == pid:
            return os.waitstatus_to_exitcode(status)


def _confine(config: dict[str, Any], fds: tuple[int, int, int, int], uid: int, full: bool, user_ns: bool) -> None:
    cmd, status, out, err = fds
    null = os.open("/dev/null", os.O_RDONLY)
    # move the pipes to 0-4 (through high numbers, so that no dup2 overwrites a pipe not yet moved)
    high = [os.dup(fd) for fd in (null, out, err, cmd, status)]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    confine.close_fds_except(range(5))
    _set_limit(resource.RLIMIT_AS, int(config["memory_mb"]) << 20)
    _set_limit(resource.RLIMIT_FSIZE, int(config["file_size_mb"]) << 20)
    _set_limit(resource.RLIMIT_NOFILE, 256)
    # 1, not 0: the kernel skips a pipe core_pattern helper (which runs as root) only for a limit of 1
    _set_limit(resource.RLIMIT_CORE, 1)
    _set_limit(resource.RLIMIT_MSGQUEUE, 1 << 20)
    _set_limit(resource.RLIMIT_RTPRIO, 0)
    _set_limit(resource.RLIMIT_NICE, 0)
    # queued signals count against the uid, which user-namespace sessions share with the user outside
    _set_limit(resource.RLIMIT_SIGPENDING, 64)
    # its own process group and session: kill(0, ...) from the code reaches its own processes only
    os.setsid()
    # a uid of its own outside (as root, or through a user namespace with subordinate uids mapped);
    # else a nested user namespace whose one uid is the worker's
    own_uid = not (full and user_ns) or bool(config.get("own_uid"))
    if not own_uid:
        # the uid maps are written through /proc/self, which a non-dumpable process (like its init) does not own
        confine.prctl(confine.PR_SET_DUMPABLE, 1)
        confine.map_user(uid)
    # after the user namespace: a limit set before it would also cap, one level up, the processes
    # of every session of this worker together
    _set_limit(resource.RLIMIT_NPROC, int(config["max_processes"]))
    if own_uid and os.geteuid() == 0:
        with contextlib.suppress(PermissionError):  # a user namespace may deny setgroups
            os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    if full:
        confine.drop_capabilities()
    # the parent-death signal is cleared by the uid change: set it now
    confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)
    confine.prctl(confine.PR_SET_DUMPABLE, 0)
    if full:
        confine.install_seccomp()
    else:
        confine.prctl(confine.PR_SET_NO_NEW_PRIVS, 1)
        os.makedirs("/tmp/start-tui-sandbox", exist_ok=True)
        os.chdir("/tmp/start-tui-sandbox")
    os.environ.clear()
    os.environ.update({"HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"})


def serve(
    config: dict[str, Any], modules: Any, fds: tuple[int, int, int, int], *, uid: int, full: bool, user_namespace: bool
) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _confine(config, fds, uid, full, user_namespace)
    sys.argv[:] = [""]  # as for a program read from standard input; the worker's own are none of its business
    sys.stdin = io.StringIO("")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace")
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    notebook = Notebook(modules, config)
    commands = io.FileIO(CMD_FD, "r", closefd=False)
    while True:
        header = _read_exact(commands, _FRAME.size)
        if header is None:
            return
        body = _read_exact(commands, _FRAME.unpack(header)[0])
        if body is None:
            return
        msg = json.loads(body)
        ok, error = notebook.run(msg["code"], msg.get("stdin"))
        figures, dropped = notebook.figures()
        _flush()
        report = {"call": msg["call"], "ok": ok, "error": error, "figures": figures, "figures_dropped": dropped}
        frame = json.dumps(report).encode()
        os.write(STATUS_FD, _FRAME.pack(len(frame)) + frame)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()


def _read_exact(f: io.FileIO, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _format_error(exc: BaseException, cells: set[str]) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in cells]
    lines = ["Traceback (most recent call last):"]
    for f in frames[-3:]:
        lines.append(f'  File "{f.filename}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"    {f.line}")
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "\n".join(line.rstrip("\n") for line in lines)


class Notebook:
    """The cells of one session: one namespace that persists across calls (unless persistence is off)."""

    def __init__(self, modules: Any, config: dict[str, Any]) -> None:
        self.modules = modules
        self.language_layer = bool(config.get("language_layer", True))
        self.display = bool(config.get("display", False))
        self.cells: set[str] = set()
        # the cells run as the `__main__` module (a script's `if __name__ == "__main__":`, and pickle,
        # dataclasses and typing find the classes the cells define where they look for them)
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        self.namespace = main.__dict__
        if self.language_layer:
            from start_tui.sandbox import policy

            self.policy = policy
            self.namespace.update(policy.new_namespace())
        else:
            self.namespace["__builtins__"] = builtins

    def run(self, code: str, stdin: str | None) -> tuple[bool, str | None]:
        name = f"<cell {len(self.cells) + 1}>"
        self.cells.add(name)
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        # a file over bytes, as a program's stdin is (`sys.stdin.buffer`, `open(0)`, `input()`)
        sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode()), encoding="utf-8")
        error: str | None = None
        try:
            body, last = self._split(code, name)
            if self.language_layer:
                compiled = self.policy.compile_code(body, name)
                shown = None if last is None else self.policy.compile_expression(last, name)
            else:
                compiled = compile(body, name, "exec")
                shown = None if last is None else compile(last, name, "eval")
            exec(compiled, self.namespace)
            if shown is not None:
                value = eval(shown, self.namespace)
                if value is not None:
                    print(repr(value))
        except SyntaxError as exc:
            error = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
        except SystemExit as exc:  # sys.exit() in a program: a non-zero code is a failure
            if exc.code not in (0, None):
                error = f"SystemExit: {exc.code}"
        except MemoryError:
            error = "MemoryError: the code ran out of memory (sandbox memory limit)"
        except BaseException as exc:
            if self.language_layer and isinstance(exc, self.policy.CompileError):
                error = f"{exc.kind}: {exc}"
            else:
                error = _format_error(exc, self.cells)
        return error is None, error

    def figures(self) -> tuple[list[str], int]:
        """The matplotlib figures the cell left open, as base64 PNGs (then closed), and how many did not
        fit the report (`MAX_FIGURES`, `MAX_FIGURE_BYTES`) or could not be drawn."""
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return [], 0
        out: list[str] = []
        dropped = total = 0
        for number in plt.get_fignums():
            buf = io.BytesIO()
            try:
                plt.figure(number).savefig(buf, format="png")
            except Exception:
                dropped += 1
                continue
            finally:
                with contextlib.suppress(Exception):
                    plt.close(number)
            data = buf.getvalue()
            if len(out) >= MAX_FIGURES or total + len(data) > MAX_FIGURE_BYTES:
                dropped += 1
                continue
            out.append(base64.b64encode(data).decode("ascii"))
            total += len(data)
        return out, dropped

    def _split(self, code: str, name: str) -> tuple[str | ast.Module, str | None]:
        """The cell, and apart from it its last statement when that is a bare expression to show.

        Without `display`, when the cell does not parse (the compiler then reports the error as it
        always does) or when its last expression prints by itself, the cell is run whole, as a script.
        """
        if not self.display:
            return code, None
        try:
            tree = ast.parse(code, name)
        except SyntaxError:
            return code, None
        last = tree.body[-1] if tree.body else None
        if not isinstance(last, ast.Expr):
            return tree, None
        if any(isinstance(node, ast.Name) and node.id == "print" for node in ast.walk(last)):
            return tree, None  # it prints already
        tree.body.pop()
        # as source text (every RestrictedPython release compiles text), on its own line numbers
        return tree, "\n" * (last.lineno - 1) + (ast.get_source_segment(code, last) or "None")


__all__ = ["Notebook", "init", "prepare", "serve"]
