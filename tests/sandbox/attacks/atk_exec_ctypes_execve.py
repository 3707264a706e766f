# Aims at the host: call libc's execve, system and popen directly through ctypes (below any
# Python-level audit hook). ESCAPED only when the program printed the nonce.
import contextlib
import ctypes
import os
import select
import sys
import time

nonce = "stui" + os.urandom(4).hex()


def run_in_child(action):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(w, 1)
            action()
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
    libc = ctypes.CDLL(None, use_errno=True)
except Exception as e:
    libc = None
    print("no libc:", type(e).__name__, e)

if libc is not None:

    def do_execve():
        path = sys.executable.encode()
        argv = (ctypes.c_char_p * 4)(path, b"-c", f"print('{nonce}')".encode(), None)
        envp = (ctypes.c_char_p * 1)(None)
        libc.execve(path, argv, envp)
        os.write(1, f"execve failed errno {ctypes.get_errno()}\n".encode())

    def do_system():
        libc.system(f"echo {nonce}".encode())

    def do_popen():
        libc.popen.restype = ctypes.c_void_p
        f = libc.popen(f"echo {nonce}".encode(), b"r")
        if f:
            buf = ctypes.create_string_buffer(128)
            libc.fgets(buf, 128, ctypes.c_void_p(f))
            os.write(1, buf.value)

    for name, action in (("execve", do_execve), ("system", do_system), ("popen", do_popen)):
        try:
            out = run_in_child(action)
            if nonce.encode() in out:
                print(f"ESCAPED: libc {name} ran a program")
            else:
                print(name, "no output:", out[:200])
        except Exception as e:
            print(name, "refused:", type(e).__name__, e)
