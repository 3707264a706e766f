# Aims at the host's memory outside the process limit: System V shared memory is not counted in the
# address-space limit once detached and lives on after the process. Fill 8 segments of 512 MiB one at a
# time. ESCAPED when more than 2 GiB (the session limit) was committed; everything is removed again.
import ctypes
import time

IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
SIZE = 512 << 20
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
ids, committed = [], 0
deadline = time.monotonic() + 7
try:
    for _ in range(8):
        if time.monotonic() > deadline:
            break
        sid = libc.shmget(IPC_PRIVATE, ctypes.c_size_t(SIZE), IPC_CREAT | 0o600)
        if sid < 0:
            print("shmget refused, errno", ctypes.get_errno())
            break
        ids.append(sid)
        addr = libc.shmat(sid, None, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            print("shmat refused, errno", ctypes.get_errno())
            break
        ctypes.memset(addr, 1, SIZE)
        libc.shmdt(ctypes.c_void_p(addr))
        committed += SIZE
    print("committed", committed >> 20, "MiB of shared memory")
    if committed > (2 << 30):
        print(f"ESCAPED: held {committed >> 20} MiB of System V shared memory past the memory limit")
finally:
    for sid in ids:
        libc.shmctl(sid, IPC_RMID, None)
