"""Linux mechanisms of the process layer: namespaces, a minimal root, a seccomp filter, capabilities.

Everything here is a thin wrapper over a system call (through libc, as Python 3.11 has no
`os.unshare`), used by `worker.py` to build the boundary that model code runs inside:

- `enter_namespaces` puts the warm worker in new user (when not root), mount, network, IPC and UTS
  namespaces; `build_root` gives it a minimal root (read-only binds of the shared libraries, the
  Python runtime and the allowed packages, a tiny `/dev`), keeping the old root at `/.old` only
  until each session has mounted its own `/proc`;
- `seccomp_filter` is a BPF program that refuses the system calls a confined process has no use
  for (program execution, tracing, new namespaces, mounts, sessions and process groups, sockets,
  kernel keyrings, io_uring, BPF, module loading, terminal injection) or that reach past the session
  (asynchronous I/O contexts, page-cache eviction and probes, making the process dumpable again).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import platform
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACE_FLAGS = (
    CLONE_NEWTIME | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
) | CLONE_NEWNET

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2

OLD_ROOT = "/.old"
"""Where the worker keeps the host's root after `build_root`; sessions detach it."""
SCRATCH = "/tmp"
"""Each session's own writable folder (a size-capped tmpfs), also its working directory."""
_RUNTIME: list[list[str]] = []
"""(directories, site folders) that `build_root` bound, for sessions to bind again over their scratch."""

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class ConfinementError(OSError):
    """A step of the process layer failed; the message says which, and why."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise ConfinementError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def umount(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    _check(int(_libc.syscall(_SYSCALLS["pivot_root"], new_root.encode(), put_old.encode())), "pivot_root")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter_namespaces(*, user: bool, map_subordinate: Callable[[], bool] | None = None) -> bool:
    """New mount, network, IPC and UTS namespaces (and a user namespace, where we are not root).

    In a user namespace, `map_subordinate` (when given) has the host map 0 to our uid and 1.. to our
    subordinate ids; where it cannot, only 0 is mapped, to our uid. Returns whether the subordinate
    ids are mapped (then each session can run as a host uid of its own).
    """
    mapped = False
    if user:
        uid, gid = os.geteuid(), os.getegid()
        unshare(CLONE_NEWUSER)
        mapped = map_subordinate is not None and map_subordinate()
        if not mapped:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1")
            _write("/proc/self/gid_map", f"0 {gid} 1")
    unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    return mapped


def map_user(inner_uid: int) -> None:
    """In a fresh nested user namespace: become `inner_uid` there, mapped to our uid outside."""
    unshare(CLONE_NEWUSER)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{inner_uid} 0 1")
    _write("/proc/self/gid_map", f"{inner_uid} 0 1")
    os.setresgid(inner_uid, inner_uid, inner_uid)
    os.setresuid(inner_uid, inner_uid, inner_uid)


def _bind(source: str, target: str, *, read_only: bool = True, devices: bool = False) -> None:
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (MS_RDONLY if read_only else 0) | (0 if devices else MS_NODEV)
    try:
        mount("none", target, None, flags)
    except ConfinementError:
        # in a user namespace the flags locked on the host mount (nodev, noexec...) must be kept
        flags |= _locked_flags(target)
        mount("none", target, None, flags)


def _locked_flags(path: str) -> int:
    st = os.statvfs(path)
    flags = 0
    for bit, ms in ((os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC), (os.ST_NOSUID, MS_NOSUID)):
        if st.f_flag & bit:
            flags |= ms
    return flags


def _is_under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def runtime_paths(packages: Iterable[str]) -> tuple[list[str], list[str]]:
    """(directories, site folders): what the confined interpreter needs to import `packages` and the stdlib."""
    import importlib.util
    import sysconfig

    dirs: set[str] = set()
    for key in ("stdlib", "platstdlib"):
        dirs.add(os.path.realpath(sysconfig.get_paths()[key]))
    libdir = sysconfig.get_config_var("LIBDIR")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir:
        lib = Path(libdir) / str(sysconfig.get_config_var("LDLIBRARY"))
        if lib.exists():
            dirs.add(str(lib.resolve()))
    sites: set[str] = {os.path.join(os.path.realpath(sysconfig.get_paths()["stdlib"]), "site-packages")}
    for name in packages:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
            continue
        origin = Path(spec.origin).resolve()
        top = origin.parent if spec.submodule_search_locations else origin
        site = top.parent
        if any(_is_under(str(top), d) and "site-packages" not in str(top) for d in list(dirs)):
            continue  # a stdlib module
        sites.add(str(site))
        dirs.add(str(top))
        for extra in (*site.glob(f"{name}.libs"), *site.glob(f"{name}-*.dist-info")):
            dirs.add(str(extra.resolve()))
    return sorted(dirs), sorted(sites)


def build_root(staging: str, packages: Iterable[str]) -> None:
    """Make `staging` (a fresh mount point) the root: shared libraries, runtime, packages, a tiny /dev.

    Afterwards the process's root is a read-only tmpfs holding only those binds, the mount points
    `/proc` and `/tmp` (each session mounts its own), and the host's root under `OLD_ROOT`.
    """
    dirs, sites = runtime_paths(packages)
    mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    old = staging + OLD_ROOT
    os.mkdir(old)
    pivot_root(staging, old)
    os.chdir("/")
    host = OLD_ROOT
    # shared libraries at their usual paths, and the usual links (/lib -> usr/lib on merged-usr systems)
    for name in ("lib", "lib32", "lib64", "libx32"):
        src = f"{host}/{name}"
        if os.path.islink(src):
            os.symlink(os.readlink(src), f"/{name}")
        elif os.path.isdir(src):
            os.mkdir(f"/{name}")
            _bind(src, f"/{name}")
    for rel in ("usr/lib", "usr/lib32", "usr/lib64", "usr/libx32", "usr/local/lib"):
        src = f"{host}/{rel}"
        if os.path.islink(src):
            os.makedirs(os.path.dirname(f"/{rel}"), exist_ok=True)
            os.symlink(os.readlink(src), f"/{rel}")
        elif os.path.isdir(src):
            os.makedirs(f"/{rel}", exist_ok=True)
            _bind(src, f"/{rel}")
    _bind_runtime(dirs, sites, host)
    _RUNTIME[:] = [dirs, sites]
    os.mkdir("/dev")
    for dev in ("null", "zero", "full", "random", "urandom"):
        _mount_point(f"/dev/{dev}", False)
        # read-only: writing to a device node still works there, but not its times (a host file's
        # metadata, and a channel between sessions)
        _bind(f"{host}/dev/{dev}", f"/dev/{dev}", devices=True)
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{fd}", f"/dev/{name}")
    os.symlink("/proc/self/fd", "/dev/fd")
    os.mkdir("/proc")
    os.makedirs(SCRATCH, exist_ok=True)  # it exists already when the runtime lives under it
    mount("none", "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _bind_runtime(dirs: list[str], sites: list[str], host: str, within: str = "/") -> None:
    """Bind the runtime folders under `within` read-only from `host`, with site folders covered.

    A site folder inside a bound folder (site-packages of a non-venv Python is inside the stdlib)
    is covered by an empty tmpfs, and only the allowed packages are bound into it.
    """
    dirs = [d for d in dirs if _is_under(d, within)]
    bound: list[str] = []
    for path in sorted(dirs, key=len):
        if any(_is_under(path, b) for b in bound):
            continue
        _mount_point(path, os.path.isdir(host + path))
        _bind(host + path, path)
        bound.append(path)
    for site in sites:
        inside = [d for d in dirs if _is_under(d, site) and d != site]
        if any(_is_under(site, b) for b in bound if b != site) and os.path.isdir(site):
            mount("tmpfs", site, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
            for d in inside:
                _mount_point(d, os.path.isdir(host + d))
                _bind(host + d, d)
            mount("none", site, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _mount_point(path: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            Path(path).touch()


def limit_ipc(memory_mb: int) -> None:
    """Cap System V shared memory and message queues of this (new) IPC namespace.

    Their memory is not counted by any rlimit; the limits are per IPC namespace and written through
    the host's /proc, which is still reachable under `OLD_ROOT` at this point.
    """
    page = os.sysconf("SC_PAGE_SIZE")
    limits: dict[str, int | str] = {
        "kernel/shmmax": memory_mb << 20,
        "kernel/shmall": (memory_mb << 20) // page,
        "kernel/shmmni": 16,
        "kernel/msgmni": 16,
        "kernel/msgmnb": 1 << 16,
        "fs/mqueue/queues_max": 4,
        "fs/mqueue/msg_max": 16,
        "fs/mqueue/msgsize_max": 8192,
        # semaphores per set, in all, per semop call, sets: their kernel memory is in no rlimit either
        "kernel/sem": "64 1024 32 16",
    }
    for name, value in limits.items():
        _write(f"{OLD_ROOT}/proc/sys/{name}", str(value))


def enter_session_root(scratch_mb: int, owner: int) -> None:
    """In a session's new mount and PID namespaces: its own /proc and scratch /tmp, and no host root.

    `/proc` shows a process only to those that may trace it (hidepid): the session's init, which
    is root and not dumpable, is invisible to the code.
    """
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible,subset=pid")
    # files are capped too: an empty file costs kernel memory that the size does not count
    inodes = max(1024, scratch_mb * 64)
    mount(
        "tmpfs",
        SCRATCH,
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"size={scratch_mb}m,nr_inodes={inodes},mode=0700,uid={owner},gid={owner}",
    )
    # a runtime that lives under /tmp (a virtual environment made there) is bound again over the scratch
    dirs, sites = _RUNTIME or ([], [])
    _bind_runtime(dirs, sites, OLD_ROOT, within=SCRATCH)
    umount(OLD_ROOT)
    os.chdir(SCRATCH)


# --- cgroups ---------------------------------------------------------------------------------


class SessionCgroup:
    """A memory and pids cgroup for one session (v1 or v2), where the host lets us make one.

    The limits count what rlimits cannot: the memory of all the session's processes together,
    shared memory and tmpfs pages included, and its processes. Made by the supervisor, which puts
    itself in, forks the session's init (which inherits it), and steps back out.
    """

    def __init__(self, dirs: list[str], leave_to: list[str]) -> None:
        self.dirs = dirs
        self.leave_to = leave_to

    @classmethod
    def create(cls, name: str, memory_mb: int, max_pids: int, host: str = OLD_ROOT) -> SessionCgroup | None:
        try:
            with open(f"{host}/proc/self/cgroup") as f:
                lines = [line.rstrip("\n").split(":", 2) for line in f]
        except OSError:
            return None
        base = f"{host}/sys/fs/cgroup"
        v1 = {ctrl: path for _n, ctrls, path in lines for ctrl in ctrls.split(",") if ctrl in ("memory", "pids")}
        limit = memory_mb << 20
        made: list[str] = []
        try:
            if len(v1) == 2:
                parents = [f"{base}/memory{v1['memory']}".rstrip("/"), f"{base}/pids{v1['pids']}".rstrip("/")]
                for parent in parents:
                    _make_cgroup(parent, name)
                    made.append(f"{parent}/{name}")
                _write(f"{made[0]}/memory.limit_in_bytes", str(limit))
                if os.path.exists(f"{made[0]}/memory.memsw.limit_in_bytes"):
                    _write(f"{made[0]}/memory.memsw.limit_in_bytes", str(limit))
                _write(f"{made[1]}/pids.max", str(max_pids))
                return cls(made, parents)
            unified = next((path for _n, ctrls, path in lines if ctrls == ""), None)
            parent = f"{base}{unified}".rstrip("/") if unified is not None else ""
            with open(f"{parent}/cgroup.subtree_control") as f:
                delegated = f.read().split()
            if {"memory", "pids"} - set(delegated):
                return None
            _make_cgroup(parent, name)
            made.append(f"{parent}/{name}")
            _write(f"{made[0]}/memory.max", str(limit))
            if os.path.exists(f"{made[0]}/memory.swap.max"):
                _write(f"{made[0]}/memory.swap.max", "0")
            _write(f"{made[0]}/pids.max", str(max_pids))
            return cls(made, [parent])
        except OSError:
            for d in made:
                with contextlib.suppress(OSError):
                    os.rmdir(d)
            return None

    def enter(self) -> None:
        for d in self.dirs:
            _write(f"{d}/cgroup.procs", str(os.getpid()))

    def leave(self) -> None:
        for d in self.leave_to:
            with contextlib.suppress(OSError):
                _write(f"{d}/cgroup.procs", str(os.getpid()))

    def remove(self) -> None:
        for d in self.dirs:
            with contextlib.suppress(OSError):
                os.rmdir(d)


CGROUP_PREFIX = "start-tui-"


def _make_cgroup(parent: str, name: str) -> None:
    """Make `parent/name`, first removing the empty cgroups of supervisors that are gone (one killed
    outright cannot remove its own; a later one with the same pid would otherwise find it there)."""
    with contextlib.suppress(OSError):
        for entry in os.listdir(parent):
            owner = entry[len(CGROUP_PREFIX) :]
            if not (entry.startswith(CGROUP_PREFIX) and owner.isdigit()):
                continue
            if int(owner) != os.getpid():  # one with this supervisor's own name is a dead one's
                try:
                    os.kill(int(owner), 0)
                    continue  # its supervisor lives (or the pid is another process's now): leave it
                except ProcessLookupError:
                    pass
                except OSError:
                    continue
            with contextlib.suppress(OSError):
                os.rmdir(f"{parent}/{entry}")  # only an empty one goes
    os.mkdir(f"{parent}/{name}")


# --- seccomp ---------------------------------------------------------------------------------

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

# Numbers per architecture; -1 where a call does not exist there.
_TABLE = {
    #                      x86_64  aarch64
    "ioctl": (16, 29),
    "socket": (41, 198),
    "socketpair": (53, 199),
    "clone": (56, 220),
    "execve": (59, 221),
    "ptrace": (101, 117),
    "syslog": (103, 116),
    "setpgid": (109, 154),
    "setsid": (112, 157),
    "mknod": (133, -1),
    "personality": (135, 92),
    "vhangup": (153, 58),
    "modify_ldt": (154, -1),
    "pivot_root": (155, 41),
    "chroot": (161, 51),
    "acct": (163, 89),
    "settimeofday": (164, 170),
    "mount": (165, 40),
    "umount2": (166, 39),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "reboot": (169, 142),
    "iopl": (172, -1),
    "ioperm": (173, -1),
    "init_module": (175, 105),
    "delete_module": (176, 106),
    "quotactl": (179, 60),
    "lookup_dcookie": (212, 18),
    "kexec_load": (246, 104),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "keyctl": (250, 219),
    "mknodat": (259, 33),
    "unshare": (272, 97),
    "perf_event_open": (298, 241),
    "fanotify_init": (300, 262),
    "name_to_handle_at": (303, 264),
    "open_by_handle_at": (304, 265),
    "setns": (308, 268),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "kcmp": (312, 272),
    "finit_module": (313, 273),
    "kexec_file_load": (320, 294),
    "bpf": (321, 280),
    "execveat": (322, 281),
    "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "clone3": (435, 435),
    "pidfd_getfd": (438, 438),
    "process_madvise": (440, 440),
    "mount_setattr": (442, 442),
    "memfd_create": (319, 279),
    # secret memory is counted by no rlimit (neither the address space nor locked memory)
    "memfd_secret": (447, 447),
    # host-wide figures (free and shared memory, process count, load): a leak, and a channel between
    # sessions through what one of them allocates
    "sysinfo": (99, 179),
    # the futex2 calls take their private flag per waiter or in a later argument; nothing here uses them
    "futex_waitv": (449, 449),
    "futex_wake": (454, 454),
    "futex_wait": (455, 455),
    "futex_requeue": (456, 456),
    # shared inodes of the read-only binds: no watching or locking what the host or another session opens
    "inotify_init": (253, -1),
    "inotify_init1": (294, 26),
    "inotify_add_watch": (254, 27),
    "flock": (73, 32),
    # which pages of a shared file are in the host's page cache: what the host or another session read
    "mincore": (27, 232),
    "preadv2": (327, 286),  # RWF_NOWAIT reads only cached pages
    "pwritev2": (328, 287),
    # a timer can send any signal, SIGCONT included, to a runner stopped between calls
    "timer_create": (222, 107),
    # asynchronous I/O contexts are counted host-wide (aio-max-nr), not per session or user
    "io_setup": (206, 0),
    "io_destroy": (207, 1),
    "io_submit": (209, 2),
    "io_cancel": (210, 3),
    "io_getevents": (208, 4),
    "io_pgetevents": (333, 292),
    # evicting or loading pages of the shared read-only files, or asking which are cached: a channel
    # between sessions through the page cache
    "fadvise64": (221, 223),
    "readahead": (187, 213),
    "cachestat": (451, 451),
    "fcntl": (72, 25),
    "prctl": (157, 167),
    "madvise": (28, 233),
    "futex": (202, 98),
}
_ARCH_INDEX = {"x86_64": 0, "aarch64": 1}
_MACHINE = platform.machine()
_SYSCALLS = {name: nrs[_ARCH_INDEX.get(_MACHINE, 0)] for name, nrs in _TABLE.items()}

# Refused outright (EPERM). `clone` is refused only with a namespace flag, `clone3` answers ENOSYS
# (so that the C library falls back to `clone`, whose flags the filter can read), `ioctl` only for
# terminal input injection, `fcntl` only for locks and leases, `socket` and `socketpair` always (no
# network, no channel to another session).
DENIED = tuple(n for n in _TABLE if n not in ("clone", "clone3", "ioctl", "fcntl", "prctl", "madvise", "futex"))
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
# fcntl commands refused: those that take, lease or look at a lock (F_SETLK, F_SETLKW, F_OFD_SETLK,
# F_OFD_SETLKW, F_SETLEASE, F_GETLK, F_OFD_GETLK: a lock on a shared file is seen by the host and other
# sessions), watch a folder (F_NOTIFY: the read-only binds are the host's folders), or choose the signal
# that I/O readiness sends (F_SETSIG: a signal that could continue a runner stopped between calls)
DENIED_FCNTL = (6, 7, 37, 38, 1024, 5, 36, 1026, 10, 1031)
"""... and F_SETPIPE_SZ (1031): pipe buffers are counted against the one host uid that user-namespace
sessions share, and a bigger pipe holds more of that uid's memory."""
# prctl options refused: making the process dumpable again (a core dump reaches the host's
# core_pattern helper, which runs as root when it is a pipe)
DENIED_PRCTL = (PR_SET_DUMPABLE,)
# madvise advice refused: MADV_COLD (20) and MADV_PAGEOUT (21) push a mapped shared file's pages out
# of the page cache, the sending half of a channel between sessions
DENIED_MADVISE = (20, 21)
# futex operations without FUTEX_PRIVATE_FLAG: on a page of a shared file (every library's text is
# one) their key is the file and offset, so a wait in one session is woken from another, or from the
# host. A process's own threads use private futexes; the kernel's own wake at a thread's exit is not
# a system call and still comes.
FUTEX_PRIVATE_FLAG = 128

_RET_ALLOW = 0x7FFF0000
_RET_KILL = 0x80000000


def _ret_errno(err: int) -> int:
    return 0x00050000 | err


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)


_LD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35
_JSET = 0x45
_RET = 0x06


def seccomp_filter() -> bytes:
    """The BPF program (struct sock_filter array) for this machine's architecture."""
    if _MACHINE not in AUDIT_ARCH:
        raise ConfinementError(errno.ENOSYS, f"no seccomp filter for the {_MACHINE} architecture")
    eperm = _ret_errno(errno.EPERM)
    prog = [
        _ins(_LD, 4),  # seccomp_data.arch
        _ins(_JEQ, AUDIT_ARCH[_MACHINE], 1, 0),
        _ins(_RET, _RET_KILL),
        _ins(_LD, 0),  # seccomp_data.nr
    ]
    if _MACHINE == "x86_64":  # the x32 ABI: other numbers for the same calls
        prog += [_ins(_JGE, 0x40000000, 0, 1), _ins(_RET, eperm)]
    for name in DENIED:
        nr = _SYSCALLS[name]
        if nr >= 0:
            prog += [_ins(_JEQ, nr, 0, 1), _ins(_RET, eperm)]
    prog += [_ins(_JEQ, _SYSCALLS["clone3"], 0, 1), _ins(_RET, _ret_errno(errno.ENOSYS))]
    # clone(flags, ...): flags are the first argument (seccomp_data.args[0], low word at offset 16)
    prog += [
        _ins(_JEQ, _SYSCALLS["clone"], 0, 4),
        _ins(_LD, 16),
        _ins(_JSET, NAMESPACE_FLAGS, 0, 1),
        _ins(_RET, eperm),
        _ins(_RET, _RET_ALLOW),
    ]
    # ioctl(fd, request): the request is args[1], low word at offset 24
    prog += [
        _ins(_JEQ, _SYSCALLS["ioctl"], 0, 5),
        _ins(_LD, 24),
        _ins(_JEQ, TIOCSTI, 1, 0),
        _ins(_JEQ, TIOCLINUX, 0, 1),
        _ins(_RET, eperm),
        _ins(_RET, _RET_ALLOW),
    ]
    # fcntl(fd, cmd): the command is args[1]; prctl(option): args[0]; madvise(addr, len, advice): args[2]
    # futex(uaddr, op, ...): refused unless op (args[1]) carries the private flag
    prog += [
        _ins(_JEQ, _SYSCALLS["futex"], 0, 4),
        _ins(_LD, 24),
        _ins(_JSET, FUTEX_PRIVATE_FLAG, 0, 1),
        _ins(_RET, _RET_ALLOW),
        _ins(_RET, eperm),
    ]
    by_argument = (("fcntl", 24, DENIED_FCNTL), ("prctl", 16, DENIED_PRCTL), ("madvise", 32, DENIED_MADVISE))
    for call, offset, values in by_argument:
        prog += [_ins(_JEQ, _SYSCALLS[call], 0, 2 + 2 * len(values)), _ins(_LD, offset)]
        for value in values:
            prog += [_ins(_JEQ, value, 0, 1), _ins(_RET, eperm)]
        prog += [_ins(_RET, _RET_ALLOW)]
    prog.append(_ins(_RET, _RET_ALLOW))
    return b"".join(prog)


def install_seccomp() -> None:
    """Apply `seccomp_filter` to this process and every child it will have; it cannot be removed."""
    program = seccomp_filter()
    count = len(program) // 8
    buf = ctypes.create_string_buffer(program)

    class SockFprog(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))

    fprog = SockFprog(count, ctypes.addressof(buf))
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


def drop_capabilities() -> None:
    """Empty every capability set of this process (capset, version 3)."""

    class Header(ctypes.Structure):
        _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))

    class Data(ctypes.Structure):
        _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32))

    header = Header(0x20080522, 0)
    data = (Data * 2)()
    capset = 126 if _MACHINE == "x86_64" else 91
    _check(int(_libc.syscall(capset, ctypes.byref(header), ctypes.byref(data))), "capset")


def close_fds_except(keep: Iterable[int]) -> None:
    keep = sorted(set(keep))
    low = 0
    for fd in [*keep, 1 << 20]:
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
