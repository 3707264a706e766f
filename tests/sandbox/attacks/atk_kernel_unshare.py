# Aims at the kernel's namespace code: unshare() each namespace type in a forked child; with a new user
# namespace, map ourselves to root there and mount a tmpfs. ESCAPED when any unshare is allowed (the
# sandbox allows no new namespaces).
import ctypes
import os
import select
import time

FLAGS = {
    "user": 0x10000000,
    "mount": 0x00020000,
    "net": 0x40000000,
    "pid": 0x20000000,
    "ipc": 0x08000000,
    "uts": 0x04000000,
    "cgroup": 0x02000000,
    "time": 0x00000080,
}


def in_child(fn):
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
    ready, _, _ = select.select([r], [], [], 5)
    out = os.read(r, 4096).decode(errors="replace") if ready else "no answer"
    os.close(r)
    for _ in range(30):
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        time.sleep(0.1)
    return out


def attempt(flag):
    def run():
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.unshare(flag)
        if rc != 0:
            return f"refused errno {ctypes.get_errno()}"
        extra = ""
        if flag == FLAGS["user"]:
            uid = os.getuid()
            try:
                for path, text in (("/proc/self/setgroups", "deny"), ("/proc/self/uid_map", f"0 {uid} 1")):
                    with open(path, "w") as f:
                        f.write(text)
                libc.unshare(FLAGS["mount"])
                os.makedirs("/tmp/start_tui_escape_marker", exist_ok=True)
                m = libc.mount(b"none", b"/tmp/start_tui_escape_marker", b"tmpfs", 0, None)
                extra = f"; mount in it: {m} errno {ctypes.get_errno()}"
            except OSError as e:
                extra = f"; mapping failed {e}"
        return "allowed" + extra

    return run


for name, flag in FLAGS.items():
    out = in_child(attempt(flag))
    print(name, "->", out)
    if out.startswith("allowed"):
        print(f"ESCAPED: unshare({name}) was allowed")
