# Aims at running between the calls of a persistent session: the runner is stopped (SIGSTOP) after each
# reply, and a SIGCONT continues a stopped process. Arrange one that arrives later without any other
# process: a POSIX timer (timer_create with SIGEV_SIGNAL) or an fd's readiness signal (F_SETSIG).
# ESCAPED when either can be set up.
import ctypes
import fcntl
import os
import signal

libc = ctypes.CDLL(None, use_errno=True)


class sigevent(ctypes.Structure):
    _fields_ = [
        ("value", ctypes.c_void_p),
        ("signo", ctypes.c_int),
        ("notify", ctypes.c_int),
        ("pad", ctypes.c_byte * 48),
    ]


ev = sigevent()
ev.signo, ev.notify = signal.SIGCONT, 0  # SIGEV_SIGNAL
timer = ctypes.c_void_p()
for clock in (0, 1, 7):  # CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME
    if libc.timer_create(clock, ctypes.byref(ev), ctypes.byref(timer)) == 0:
        print(f"ESCAPED: a timer on clock {clock} that sends SIGCONT was created")
    else:
        print("timer_create on clock", clock, "refused:", os.strerror(ctypes.get_errno()))
r, w = os.pipe()
try:
    fcntl.fcntl(r, 10, signal.SIGCONT)  # F_SETSIG
    print("ESCAPED: F_SETSIG chose SIGCONT as an fd's readiness signal")
except OSError as e:
    print("F_SETSIG refused:", e.strerror)
