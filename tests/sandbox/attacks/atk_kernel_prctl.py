# Aims at host privileges through prctl: PR_SET_MM (rewrite our memory map layout; needs CAP_SYS_RESOURCE
# in the host namespace, checked before the arguments) with the current value, plus a report of the
# seccomp, no_new_privs and bounding-set state. ESCAPED when PR_SET_MM gets past its privilege check.
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
with open("/proc/self/stat") as f:
    fields = f.read().rsplit(")", 1)[1].split()
start_brk = int(fields[44])  # field 47 of /proc/<pid>/stat (fields[0] is field 3)
rc = libc.prctl(35, 6, ctypes.c_ulong(start_brk), 0, 0)  # PR_SET_MM, PR_SET_MM_START_BRK (unchanged)
err = ctypes.get_errno()
print("PR_SET_MM:", rc, "errno", err)
if rc == 0 or err == 22:
    print("ESCAPED: PR_SET_MM got past its CAP_SYS_RESOURCE check")
print(
    "seccomp mode:",
    libc.prctl(21, 0, 0, 0, 0),
    "no_new_privs:",
    libc.prctl(39, 0, 0, 0, 0),
    "CAP_SYS_ADMIN in bounding set:",
    libc.prctl(23, 21, 0, 0, 0),
)
rc = libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE 1: lets same-uid processes read our memory
print("PR_SET_DUMPABLE(1):", rc)
