# Aims at the host's namespaces: open /proc/<pid>/ns/* of pid 1, the parent and every visible process
# and setns() into those that differ from ours (in a forked child). ESCAPED when a join succeeds.
import ctypes
import os
import select

KINDS = ("mnt", "net", "pid", "ipc", "uts", "user", "cgroup", "time")
own = {}
for k in KINDS:
    try:
        own[k] = os.stat(f"/proc/self/ns/{k}").st_ino
    except OSError:
        own[k] = None


def try_join(path):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(path, os.O_RDONLY)
            rc = libc.setns(fd, 0)
            os.write(w, b"joined" if rc == 0 else f"errno {ctypes.get_errno()}".encode())
        except BaseException as e:
            os.write(w, f"{type(e).__name__} {e}".encode())
        finally:
            os._exit(0)
    os.close(w)
    ready, _, _ = select.select([r], [], [], 3)
    out = os.read(r, 200).decode() if ready else "no answer"
    os.close(r)
    os.waitpid(pid, 0)
    return out


tried = set()
for p in dict.fromkeys(["1", str(os.getppid())] + [d for d in os.listdir("/proc") if d.isdigit()]):
    for k in KINDS:
        path = f"/proc/{p}/ns/{k}"
        try:
            ino = os.stat(path).st_ino
        except OSError:
            continue
        if ino == own[k] or (k, ino) in tried:
            continue
        tried.add((k, ino))
        out = try_join(path)
        print(path, "->", out)
        if out == "joined":
            print(f"ESCAPED: joined pid {p}'s {k} namespace")
print("foreign namespaces seen:", len(tried))
