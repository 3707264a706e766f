# Aims at the host: run host programs through the shell (os.system, os.popen) and touch the
# escape markers. ESCAPED only when a program's output actually comes back.
import os
import sys

nonce = "stui" + os.urandom(4).hex()
markers = [d + "/start_tui_escape_marker" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm")]

try:
    rc = os.system("touch " + " ".join(markers) + "; echo ESC''APED: os.system ran a shell")
    print("os.system returned", rc)
except Exception as e:
    print("os.system refused:", type(e).__name__, e)

for cmd in (f"echo {nonce}", f"/bin/echo {nonce}", f"{sys.executable} -c 'print(\"{nonce}\")'"):
    try:
        with os.popen(cmd) as p:
            out = p.read()
        if nonce in out:
            print("ESCAPED: os.popen ran", cmd.split()[0])
        else:
            print("os.popen gave no output for", cmd.split()[0])
    except Exception as e:
        print("os.popen refused:", type(e).__name__, e)
