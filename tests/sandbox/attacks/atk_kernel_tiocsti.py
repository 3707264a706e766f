# Aims at the host's terminal: push input into the controlling terminal (TIOCSTI, TIOCLINUX) through
# fds 0/1/2 and /dev/tty, and open other terminals for writing. ESCAPED when an injection ioctl
# succeeds or another terminal opens for writing (nothing is written to it).
import fcntl
import glob
import os
import termios

TIOCSTI = getattr(termios, "TIOCSTI", 0x5412)
fds = [0, 1, 2]
try:
    fds.append(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
except OSError as e:
    print("/dev/tty:", e.strerror)
for fd in fds:
    try:
        fcntl.ioctl(fd, TIOCSTI, b" ")
        print(f"ESCAPED: TIOCSTI injected input through fd {fd}")
    except OSError as e:
        print("TIOCSTI on fd", fd, "refused:", e.strerror)
    try:
        fcntl.ioctl(fd, 0x541C, bytes([7]))  # TIOCLINUX, TIOCL_GETSHIFTSTATE-like harmless subcode
        print(f"ESCAPED: TIOCLINUX accepted on fd {fd}")
    except OSError as e:
        print("TIOCLINUX on fd", fd, "refused:", e.strerror)
for path in [*glob.glob("/dev/pts/[0-9]*"), "/dev/console", "/dev/tty1", "/dev/ttyS0"]:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
        os.close(fd)
        print(f"ESCAPED: opened the terminal {path} for writing")
    except OSError as e:
        print(path, e.strerror)
