# Aims at the host: start host binaries with subprocess (run, Popen, shell=True, check_output).
# ESCAPED only when a started program printed the nonce back.
import os
import subprocess
import sys

nonce = "stui" + os.urandom(4).hex()
markers = [d + "/start_tui_escape_marker" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm")]
attempts = [
    ["/bin/echo", nonce],
    ["/usr/bin/env", "echo", nonce],
    ["/bin/sh", "-c", f"touch {' '.join(markers)}; echo {nonce}"],
    [sys.executable, "-c", f"print('{nonce}')"],
    [sys.executable, "-I", "-S", "-c", f"print('{nonce}')"],
]
for argv in attempts:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=5)
        if nonce in out.stdout:
            print("ESCAPED: subprocess.run ran", argv[0])
        else:
            print("no output from", argv[0], out.returncode)
    except Exception as e:
        print("subprocess.run refused for", argv[0], type(e).__name__, e)

try:
    out = subprocess.check_output(f"echo {nonce}", shell=True, timeout=5, text=True)
    if nonce in out:
        print("ESCAPED: subprocess shell=True ran /bin/sh")
except Exception as e:
    print("shell=True refused:", type(e).__name__, e)

try:
    with subprocess.Popen([sys.executable, "-c", f"print('{nonce}')"], stdout=subprocess.PIPE) as p:
        data = p.communicate(timeout=5)[0]
    if nonce.encode() in data:
        print("ESCAPED: subprocess.Popen ran the interpreter")
except Exception as e:
    print("Popen refused:", type(e).__name__, e)
