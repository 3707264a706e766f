# Aims at other sessions (after atk_other_sysv_ipc_1_plant): look for the System V segment, queue and
# semaphore an earlier session left under the well-known key. ESCAPED when one is found; removes them.
import ctypes

KEY, IPC_NOWAIT, IPC_RMID, GETVAL = 0x53545549, 0o4000, 0, 12
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p

shmid = libc.shmget(KEY, 0, 0)
if shmid >= 0:
    addr = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
    if addr not in (None, ctypes.c_void_p(-1).value):
        text = ctypes.string_at(addr, 32)
        libc.shmdt(ctypes.c_void_p(addr))
        if text.startswith(b"start_tui_escape_marker planted"):
            print("ESCAPED: read a shared memory segment an earlier session left")
    libc.shmctl(shmid, IPC_RMID, None)
else:
    print("no segment, errno", ctypes.get_errno())


class Msg(ctypes.Structure):
    _fields_ = (("mtype", ctypes.c_long), ("text", ctypes.c_char * 64))


msqid = libc.msgget(KEY, 0)
if msqid >= 0:
    m = Msg()
    if libc.msgrcv(msqid, ctypes.byref(m), 64, 0, IPC_NOWAIT) > 0 and m.text.startswith(b"start_tui_escape_marker"):
        print("ESCAPED: received a message an earlier session left")
    libc.msgctl(msqid, IPC_RMID, None)
else:
    print("no queue, errno", ctypes.get_errno())
semid = libc.semget(KEY, 0, 0)
if semid >= 0:
    if libc.semctl(semid, 0, GETVAL) == 42:
        print("ESCAPED: found a semaphore an earlier session set")
    libc.semctl(semid, 0, IPC_RMID)
else:
    print("no semaphore, errno", ctypes.get_errno())
