# Aims at the host's network past a ban on creating sockets: reuse sockets the sandbox inherited --
# accept on listening ones, connect unconnected ones to the checker's listener (port put in for the
# word in capitals below), and dup them. ESCAPED when an inherited socket reaches the listener.
import contextlib
import os
import socket
import stat

raw = "PORT"
port = int(raw) if raw.isdigit() else 22
for fd in range(3, 1024):
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            continue
    except OSError:
        continue
    try:
        s = socket.socket(fileno=os.dup(fd))
    except OSError as e:
        print("fd", fd, "cannot be wrapped:", e)
        continue
    try:
        name, peer = s.getsockname(), None
        with contextlib.suppress(OSError):
            peer = s.getpeername()
        print("fd", fd, s.family, s.type, name, peer)
        if peer is None and s.family in (socket.AF_INET, socket.AF_INET6):
            s.settimeout(2)
            s.connect(("127.0.0.1", port))
            print(f"ESCAPED: inherited socket fd {fd} connected to 127.0.0.1:{port}")
    except OSError as e:
        print("fd", fd, "refused:", e)
    finally:
        s.close()
