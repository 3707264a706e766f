# Report only (never ESCAPED): try to make a core dump possible (PR_SET_DUMPABLE 1, RLIMIT_CORE soft
# limit up to 1 MiB at most), then crash a child with SIGSEGV and report whether the kernel dumped a
# core (WCOREDUMP) and whether a core file appeared; any core file is removed.
import ctypes
import os
import resource
import signal

libc = ctypes.CDLL(None, use_errno=True)
print("PR_SET_DUMPABLE 1:", "accepted" if libc.prctl(4, 1, 0, 0, 0) == 0 else os.strerror(ctypes.get_errno()))
soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
try:
    want = 1 << 20 if hard == resource.RLIM_INFINITY else min(hard, 1 << 20)
    resource.setrlimit(resource.RLIMIT_CORE, (max(soft, want) if soft != resource.RLIM_INFINITY else want, hard))
except (OSError, ValueError) as e:
    print("RLIMIT_CORE raise refused:", e)
print("RLIMIT_CORE now", resource.getrlimit(resource.RLIMIT_CORE), "dumpable", libc.prctl(3, 0, 0, 0, 0))
try:
    with open("/proc/sys/kernel/core_pattern") as f:
        print("core_pattern:", f.read().strip())
except OSError as e:
    print("core_pattern unreadable:", e.strerror)
before = set(os.listdir("."))
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGSEGV, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGSEGV)
    os._exit(1)
_, status = os.waitpid(pid, 0)
print("child signal", os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, "core dumped:", os.WCOREDUMP(status))
for name in set(os.listdir(".")) - before:
    print("new file after the crash:", name, os.path.getsize(name))
    if name.startswith("core"):
        os.unlink(name)
