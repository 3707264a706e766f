# Aims at the host's CPU share: a negative nice value weighs the session above the host's ordinary
# processes. ESCAPED when setpriority to a nice below 0 (or the nice() call) is accepted.
import os

print("nice now:", os.getpriority(os.PRIO_PROCESS, 0))
try:
    os.setpriority(os.PRIO_PROCESS, 0, -1)
    print("ESCAPED: setpriority(PRIO_PROCESS, 0, -1) accepted; nice now", os.getpriority(os.PRIO_PROCESS, 0))
except OSError as e:
    print("setpriority -1 refused:", e.strerror)
try:
    now = os.nice(-1)
    print(f"ESCAPED: nice(-1) accepted; nice now {now}") if now < 0 else print("nice(-1) left nice at", now)
except OSError as e:
    print("nice(-1) refused:", e.strerror)
