# Aims at the host: _posixsubprocess.fork_exec, the C helper under subprocess, which CPython 3.11
# raises no audit event for. ESCAPED only when the started program printed the nonce.
import contextlib
import os
import select
import sys
import time

nonce = "stui" + os.urandom(4).hex()
try:
    import _posixsubprocess

    for exe, argv in (
        (sys.executable, [sys.executable, "-c", f"print('{nonce}')"]),
        ("/bin/echo", ["echo", nonce]),
    ):
        r, w = os.pipe()
        errpipe_read, errpipe_write = os.pipe()
        try:
            pid = _posixsubprocess.fork_exec(
                argv,
                [os.fsencode(exe)],
                True,
                (),
                None,
                None,
                -1,
                -1,
                -1,
                w,
                -1,
                -1,
                errpipe_read,
                errpipe_write,
                False,
                False,
                -1,
                None,
                None,
                None,
                -1,
                None,
                False,
            )
        except Exception as e:
            print("fork_exec refused for", exe, type(e).__name__, e)
            for fd in (r, w, errpipe_read, errpipe_write):
                os.close(fd)
            continue
        os.close(w)
        os.close(errpipe_write)
        data = b""
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            ready, _, _ = select.select([r], [], [], 0.3)
            if ready:
                chunk = os.read(r, 4096)
                if not chunk:
                    break
                data += chunk
        err = os.read(errpipe_read, 200)
        os.close(r)
        os.close(errpipe_read)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if nonce.encode() in data:
            print("ESCAPED: _posixsubprocess.fork_exec ran", exe)
        else:
            print("fork_exec", exe, "no output; child error:", err[:120])
except Exception as e:
    print("refused:", type(e).__name__, e)
