# Aims at the host: write an executable script into the scratch folder (shebang to the shell and to
# the interpreter) and run it. ESCAPED only when the script ran; the script file is removed afterwards.
import contextlib
import os
import subprocess
import sys

nonce = "stui" + os.urandom(4).hex()
for d in ("/tmp", "/var/tmp", "/dev/shm", os.getcwd()):
    for n, body in ((1, f"#!/bin/sh\necho {nonce}\n"), (2, f"#!{sys.executable}\nprint('{nonce}')\n")):
        path = os.path.join(d, f"start_tui_fill_exec{n}")
        try:
            with open(path, "w") as f:
                f.write(body)
            os.chmod(path, 0o755)
            out = subprocess.run([path], capture_output=True, text=True, timeout=5)
            if nonce in out.stdout:
                print("ESCAPED: ran a script written to", d)
            else:
                print("script in", d, "gave no output", out.returncode)
        except Exception as e:
            print("script in", d, "refused:", type(e).__name__, e)
        finally:
            with contextlib.suppress(OSError):
                os.remove(path)
