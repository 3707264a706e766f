# Aims at the sandbox machinery and other sessions: attach with ptrace (PTRACE_SEIZE, PTRACE_ATTACH) to
# the parent and every other visible process. ESCAPED when an attach to a process that is not our own
# child succeeds (it is detached again at once).
import contextlib
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SEIZE = 16, 17, 0x4206
me = os.getpid()
pids = dict.fromkeys([os.getppid(), 1] + [int(d) for d in os.listdir("/proc") if d.isdigit()])
for pid in pids:
    if pid in (me, 0):
        continue
    for name, req in (("SEIZE", PTRACE_SEIZE), ("ATTACH", PTRACE_ATTACH)):
        r = libc.ptrace(req, pid, None, None)
        if r == 0:
            print(f"ESCAPED: PTRACE_{name} on pid {pid} succeeded")
            if req == PTRACE_ATTACH:
                with contextlib.suppress(OSError):
                    os.waitpid(pid, 0x40000000)  # __WALL
            libc.ptrace(PTRACE_DETACH, pid, None, None)
            break
        print(f"PTRACE_{name} on {pid}: errno {ctypes.get_errno()}")
try:
    r = os.fork()
    if r == 0:
        rc = libc.ptrace(0, 0, None, None)  # PTRACE_TRACEME
        os._exit(0 if rc == 0 else 1)
    _, st = os.waitpid(r, 0)
    print("PTRACE_TRACEME in a child:", "allowed" if os.WEXITSTATUS(st) == 0 else "refused")
except Exception as e:
    print("fork refused:", type(e).__name__, e)
