# Aims at the processes around the sandbox: a process group or session shared with processes outside
# our PID namespace. There getpgrp() / getsid(0) read 0 (the leader has no pid in our namespace), and a
# signal to the group (kill(0, ...)) or a hangup of the session reaches the host's processes.
# ESCAPED when the group or session leader is outside our PID namespace. setsid/setpgid being refused
# (by seccomp) is expected and not an escape.
import os

pgrp, sid = os.getpgrp(), os.getsid(0)
print("pid", os.getpid(), "pgrp", pgrp, "sid", sid, "pid namespace", os.readlink("/proc/self/ns/pid"))
if pgrp == 0:
    print("ESCAPED: our process group's leader is outside our PID namespace (getpgrp() is 0)")
if sid == 0:
    print("ESCAPED: our session's leader is outside our PID namespace (getsid(0) is 0)")
with open("/proc/self/status") as f:
    print(*(line.strip() for line in f if line.startswith(("NSpgid", "NSsid"))))
for name, call in (("setsid", os.setsid), ("setpgid", lambda: os.setpgid(0, 0))):
    try:
        call()
        print(name, "worked: now pgrp", os.getpgrp(), "sid", os.getsid(0))
    except OSError as e:
        print(name, "refused:", e.strerror)
