# Aims at host kernel memory outside every rlimit: System V semaphores (their sets live in kernel memory
# that no per-process limit counts). Create sets of 256 semaphores until refused or past 8192 in all,
# then remove them all (IPC_RMID). ESCAPED when more than 4096 semaphores could be created.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
ids, total, per_set, why = [], 0, 256, "stopped at the cap"
while total <= 8192:
    sid = libc.semget(IPC_PRIVATE, per_set, IPC_CREAT | 0o600)
    if sid < 0:
        err = ctypes.get_errno()
        if per_set > 1 and err == 22:  # EINVAL: more per set than SEMMSL allows, try smaller sets
            per_set //= 4
            continue
        why = os.strerror(err)
        break
    ids.append(sid)
    total += per_set
for sid in ids:
    libc.semctl(sid, 0, IPC_RMID)
print("semaphore sets:", len(ids), "semaphores:", total, "last set size", per_set, "-", why)
if total > 4096:
    print(f"ESCAPED: created {total} System V semaphores")
