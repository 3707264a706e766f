# Aims at the host's core dump handling and at same-uid readers: prctl(PR_SET_DUMPABLE, 1) makes the
# process dumpable again (a crash then reaches the host's core_pattern, a root helper when it is a
# pipe; /proc/<pid>/mem opens to same-uid processes). ESCAPED when PR_SET_DUMPABLE 1 is accepted.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4
print("dumpable now:", libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
if libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0:
    print("ESCAPED: prctl(PR_SET_DUMPABLE, 1) accepted; dumpable:", libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
else:
    print("PR_SET_DUMPABLE 1 refused:", os.strerror(ctypes.get_errno()))
