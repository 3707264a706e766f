# Aims at host kernel memory: each queued real-time signal is a kernel object outside the session's
# memory limit. Block SIGRTMIN, sigqueue it to ourselves until EAGAIN (or a cap of 8192), then drop
# them all by ignoring the signal. ESCAPED when more than 4096 signals could be queued.
import ctypes
import os
import signal

libc = ctypes.CDLL(None, use_errno=True)
sig = signal.SIGRTMIN
signal.pthread_sigmask(signal.SIG_BLOCK, {sig})
queued, why = 0, "stopped at the cap"
while queued < 8192:
    if libc.sigqueue(os.getpid(), sig, ctypes.c_void_p(queued)) != 0:
        why = os.strerror(ctypes.get_errno())
        break
    queued += 1
signal.signal(sig, signal.SIG_IGN)  # ignoring a signal discards its queued instances
signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
print("queued", queued, "real-time signals -", why)
if queued > 4096:
    print(f"ESCAPED: queued {queued} real-time signals")
