# Aims at the sandbox machinery and other sessions: SIGKILL every visible start_tui/sandbox process.
# ESCAPED only when one is really gone (a PID namespace's init ignores it) and is not just our own
# session's ancestor inside a PID namespace of our own (killing that only ends this session).
import os
import signal
import time


def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


me = os.getpid()
ancestors, p = [], me
while p > 0 and len(ancestors) < 64:
    p = ppid_of(p)
    if p > 0:
        ancestors.append(p)
targets = []
for d in os.listdir("/proc"):
    if not d.isdigit() or int(d) == me:
        continue
    try:
        with open(f"/proc/{d}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        continue
    if any(s in cmd for s in (b"start_tui", b"start-tui", b"sandbox")):
        targets.append((int(d), cmd.replace(b"\0", b" ")[:60]))
host_pidns = os.readlink("/proc/self/ns/pid") == "pid:[4026531836]"  # the initial PID namespace
print("ancestors:", ancestors, "targets:", [t[0] for t in targets], "host pid namespace:", host_pidns)
# others first; our own ancestors last (killing them may end this process before it can report)
targets.sort(key=lambda t: t[0] in ancestors)
for pid, cmd in targets:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as e:
        print("kill", pid, "refused:", e.strerror)
        continue
    time.sleep(0.3)
    if not alive(pid):
        if pid not in ancestors or host_pidns:
            print(f"ESCAPED: killed sandbox process {pid} ({cmd!r})", flush=True)
        else:
            print("killed our own session's ancestor", pid, "(inside our own PID namespace)")
    else:
        print("kill", pid, "returned but it is still alive")
