# Aims at other sessions (after atk_other_posix_mq_1_plant): open the POSIX message queue an earlier
# session left and read its message. ESCAPED when the message is there; removes the queue.
import ctypes
import os

try:
    lib = ctypes.CDLL(None, use_errno=True)
    if not hasattr(lib, "mq_open"):
        lib = ctypes.CDLL("librt.so.1", use_errno=True)
    q = lib.mq_open(b"/start_tui_escape_marker", os.O_RDONLY | os.O_NONBLOCK)
    if q < 0:
        print("no queue, errno", ctypes.get_errno())
    else:
        buf = ctypes.create_string_buffer(1 << 16)
        n = lib.mq_receive(q, buf, 1 << 16, None)
        if n > 0 and buf.raw[:n] == b"planted":
            print("ESCAPED: read a message queue an earlier session left")
        lib.mq_close(q)
        lib.mq_unlink(b"/start_tui_escape_marker")
except Exception as e:
    print("refused:", type(e).__name__, e)
