# Aims at other sessions (with atk_other_sysv_ipc_2_find): leave a System V shared memory segment, a
# message queue and a semaphore under a well-known key for a later session. ESCAPED here only when
# IPC objects that are not ours are already visible (the IPC namespace is shared).
import ctypes

KEY, IPC_CREAT, IPC_NOWAIT, SETVAL = 0x53545549, 0o1000, 0o4000, 16
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
try:
    for kind in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{kind}") as f:
            rows = [line.split() for line in f.read().splitlines()[1:]]
        others = [r[0] for r in rows if r and int(r[0]) != KEY]
        if others:
            print(f"ESCAPED: {len(others)} System V {kind} objects of others are visible")
except OSError as e:
    print("/proc/sysvipc refused:", e.strerror)

shmid = libc.shmget(KEY, 4096, IPC_CREAT | 0o666)
if shmid >= 0:
    addr = libc.shmat(shmid, None, 0)
    if addr not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(addr, b"start_tui_escape_marker planted\0", 32)
        libc.shmdt(ctypes.c_void_p(addr))
    print("planted shm", shmid)
else:
    print("shmget refused, errno", ctypes.get_errno())


class Msg(ctypes.Structure):
    _fields_ = (("mtype", ctypes.c_long), ("text", ctypes.c_char * 64))


msqid = libc.msgget(KEY, IPC_CREAT | 0o666)
if msqid >= 0:
    m = Msg(1, b"start_tui_escape_marker planted")
    print("planted msg", msqid, libc.msgsnd(msqid, ctypes.byref(m), 64, IPC_NOWAIT))
else:
    print("msgget refused, errno", ctypes.get_errno())
semid = libc.semget(KEY, 1, IPC_CREAT | 0o666)
if semid >= 0:
    print("planted sem", semid, libc.semctl(semid, 0, SETVAL, ctypes.c_int(42)))
else:
    print("semget refused, errno", ctypes.get_errno())
