# Aims at the host: fork, then replace the child with a host binary (os.execv / execve / execvp);
# the child's stdout is a pipe. ESCAPED only when the exec'd program printed the nonce.
import os
import select
import sys
import time

nonce = "stui" + os.urandom(4).hex()
try:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(w, 2)
        tries = [
            lambda: os.execv(sys.executable, [sys.executable, "-c", f"print('{nonce}')"]),
            lambda: os.execve("/bin/echo", ["echo", nonce], {}),
            lambda: os.execvp("echo", ["echo", nonce]),
            lambda: os.execl("/bin/sh", "sh", "-c", f"echo {nonce}"),
        ]
        for attempt in tries:
            try:
                attempt()
            except BaseException as e:
                os.write(1, f"exec refused: {type(e).__name__} {e}\n".encode())
        os._exit(127)
    os.close(w)
    data = b""
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        ready, _, _ = select.select([r], [], [], 0.5)
        if ready:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
    os.waitpid(pid, os.WNOHANG)
    if nonce.encode() in data:
        print("ESCAPED: os.exec* ran a program in a forked child")
    else:
        print("child said:", data.decode(errors="replace")[:400])
except Exception as e:
    print("refused:", type(e).__name__, e)
