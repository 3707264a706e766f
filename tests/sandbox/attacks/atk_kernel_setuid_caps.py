# Aims at host privileges: in a forked child, try to become root (setuid/setresuid/setgid/setgroups)
# and raise every capability (capset, ambient). ESCAPED when the child ends with uid 0 or effective
# capabilities in the host's (initial) user namespace.
import ctypes
import os
import select

INIT_USERNS = "user:[4026531837]"


def status():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return fields["Uid"].split()[1], int(fields["CapEff"].strip(), 16)


def child():
    libc = ctypes.CDLL(None, use_errno=True)
    notes = []
    for name, fn in (
        ("setgroups", lambda: os.setgroups([0])),
        ("setresgid", lambda: os.setresgid(0, 0, 0)),
        ("setresuid", lambda: os.setresuid(0, 0, 0)),
        ("setuid", lambda: os.setuid(0)),
    ):
        try:
            fn()
            notes.append(name + " ok")
        except OSError as e:
            notes.append(f"{name} {e.strerror}")

    class Header(ctypes.Structure):
        _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))

    class Data(ctypes.Structure):
        _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32))

    data = (Data * 2)(Data(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), Data(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF))
    rc = libc.capset(ctypes.byref(Header(0x20080522, 0)), data)
    notes.append(f"capset {rc} errno {ctypes.get_errno()}")
    rc = libc.prctl(47, 2, 21, 0, 0)  # PR_CAP_AMBIENT_RAISE CAP_SYS_ADMIN
    notes.append(f"ambient {rc}")
    euid, cap = os.geteuid(), status()[1]
    ns = os.readlink("/proc/self/ns/user")
    return f"{euid} {cap:x} {ns} | " + "; ".join(notes)


r, w = os.pipe()
pid = os.fork()
if pid == 0:
    try:
        os.write(w, child().encode())
    except BaseException as e:
        os.write(w, f"-1 0 ? | {type(e).__name__} {e}".encode())
    finally:
        os._exit(0)
os.close(w)
ready, _, _ = select.select([r], [], [], 5)
out = os.read(r, 2000).decode() if ready else "-1 0 ? | no answer"
os.waitpid(pid, 0)
print("child:", out)
euid, cap, ns = out.split(" | ")[0].split()
if ns == INIT_USERNS and (euid == "0" or int(cap, 16) != 0):
    print(f"ESCAPED: child holds host privileges (euid {euid}, CapEff {cap})")
