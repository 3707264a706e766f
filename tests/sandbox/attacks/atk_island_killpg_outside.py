# Aims at host processes through group signals: kill(0, sig) and killpg(our group, sig) go to every
# member of our process group, in any PID namespace. Probe with signal 0 (delivers nothing) and list the
# members we can see in /proc. ESCAPED when a group signal is accepted while the group's leader is not
# in our PID namespace (getpgrp() 0), or the group has a member of another uid than ours.
import os

me, pgrp = os.getpid(), os.getpgrp()
visible = []
for d in (d for d in os.listdir("/proc") if d.isdigit()):
    try:
        with open(f"/proc/{d}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{d}/status") as f:
            uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
    except (OSError, StopIteration):
        continue
    if int(fields[2]) == pgrp:  # field 5: pgrp
        visible.append((int(d), uid))
print("pgrp", pgrp, "visible members (pid, uid):", sorted(visible))
for name, call in (("kill(0, 0)", lambda: os.kill(0, 0)), ("killpg(getpgrp(), 0)", lambda: os.killpg(pgrp, 0))):
    try:
        call()
    except OSError as e:
        print(name, "refused:", e.strerror)
        continue
    print(name, "accepted")
    if pgrp == 0:
        print(f"ESCAPED: {name} reaches a process group led from outside our PID namespace")
    elif any(uid != os.getuid() for _, uid in visible):
        print(f"ESCAPED: {name} reaches a process group with members of another uid")
