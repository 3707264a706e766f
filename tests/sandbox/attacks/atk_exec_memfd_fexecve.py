# Aims at the host: fileless execution -- copy the interpreter into a memfd and run it with
# execve("/proc/self/fd/N") and execveat(fd, "", AT_EMPTY_PATH). ESCAPED only on the nonce coming back.
import contextlib
import ctypes
import os
import platform
import select
import sys
import time

nonce = "stui" + os.urandom(4).hex()
SYS_EXECVEAT = {"x86_64": 322, "aarch64": 281}.get(platform.machine())


def child_output(action):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(w, 1)
            action()
        except BaseException as e:
            os.write(1, f"{type(e).__name__} {e}".encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        ready, _, _ = select.select([r], [], [], 0.3)
        if ready:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
    os.close(r)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return data


try:
    fd = os.memfd_create("x", 0)
    with open(sys.executable, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            os.write(fd, block)
    argv = [sys.executable, "-c", f"print('{nonce}')"]
    out = child_output(lambda: os.execv(f"/proc/self/fd/{fd}", argv))
    print("ESCAPED: execve of a memfd ran" if nonce.encode() in out else f"memfd execve: {out[:150]!r}")

    if SYS_EXECVEAT:

        def via_execveat():
            libc = ctypes.CDLL(None, use_errno=True)
            args = (ctypes.c_char_p * 4)(*(a.encode() for a in argv), None)
            env = (ctypes.c_char_p * 1)(None)
            libc.syscall(SYS_EXECVEAT, fd, b"", args, env, 0x1000)
            os.write(1, f"execveat errno {ctypes.get_errno()}".encode())

        out = child_output(via_execveat)
        print("ESCAPED: execveat of a memfd ran" if nonce.encode() in out else f"execveat: {out[:150]!r}")
except Exception as e:
    print("refused:", type(e).__name__, e)
