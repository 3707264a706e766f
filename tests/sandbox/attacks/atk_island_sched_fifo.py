# Aims at the host's CPU: a real-time scheduling policy (SCHED_FIFO / SCHED_RR) runs ahead of every
# ordinary process on the host, a busy loop in it starves them. ESCAPED when sched_setscheduler takes
# a real-time policy; the policy is put back to SCHED_OTHER at once.
import os

for name in ("SCHED_FIFO", "SCHED_RR"):
    try:
        os.sched_setscheduler(0, getattr(os, name), os.sched_param(1))
    except OSError as e:
        print(name, "refused:", e.strerror)
        continue
    print(f"ESCAPED: sched_setscheduler({name}, priority 1) accepted")
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
