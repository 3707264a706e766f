# Aims at the host: run a program on a pseudo-terminal (pty.fork + exec, pty.spawn), which also
# needs /dev/ptmx. ESCAPED only when the program's output came back through the terminal.
import os
import select
import sys
import time

nonce = "stui" + os.urandom(4).hex()


def drain(fd, seconds):
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.3)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    return data


try:
    import pty

    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execv(sys.executable, [sys.executable, "-c", f"print('{nonce}')"])
        finally:
            os._exit(127)
    data = drain(master, 4)
    if nonce.encode() in data:
        print("ESCAPED: pty.fork + exec ran the interpreter")
    else:
        print("pty.fork: no output", data[:200])
except Exception as e:
    print("pty.fork refused:", type(e).__name__, e)

try:
    import pty

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(w, 1)
            pty.spawn([sys.executable, "-c", f"print('{nonce}')"])
        finally:
            os._exit(0)
    os.close(w)
    data = drain(r, 4)
    if nonce.encode() in data:
        print("ESCAPED: pty.spawn ran the interpreter")
    else:
        print("pty.spawn: no output", data[:200])
except Exception as e:
    print("pty.spawn refused:", type(e).__name__, e)
