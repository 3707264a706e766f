# Aims at the host: os.posix_spawn / os.posix_spawnp a host binary with stdout on a pipe.
# ESCAPED only when the spawned program printed the nonce.
import contextlib
import os
import select
import sys
import time

nonce = "stui" + os.urandom(4).hex()


def collect(r, deadline):
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([r], [], [], 0.3)
        if ready:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
    return data


for how, path, argv in (
    ("posix_spawn", sys.executable, [sys.executable, "-c", f"print('{nonce}')"]),
    ("posix_spawn", "/bin/echo", ["echo", nonce]),
    ("posix_spawnp", "echo", ["echo", nonce]),
):
    try:
        r, w = os.pipe()
        actions = [(os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_CLOSE, r)]
        fn = os.posix_spawn if how == "posix_spawn" else os.posix_spawnp
        pid = fn(path, argv, {}, file_actions=actions)
        os.close(w)
        data = collect(r, time.monotonic() + 4)
        os.close(r)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if nonce.encode() in data:
            print(f"ESCAPED: {how} ran {path}")
        else:
            print(how, path, "gave no output")
    except Exception as e:
        print(how, path, "refused:", type(e).__name__, e)
