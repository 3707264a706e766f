# Aims at other sessions (with atk_other_posix_mq_2_find): create the POSIX message queue
# /start_tui_escape_marker (it shows as /dev/mqueue/start_tui_escape_marker on a host that mounts it)
# and leave a message in it for a later session.
import ctypes
import os

try:
    lib = ctypes.CDLL(None, use_errno=True)
    if not hasattr(lib, "mq_open"):
        lib = ctypes.CDLL("librt.so.1", use_errno=True)
    q = lib.mq_open(b"/start_tui_escape_marker", os.O_CREAT | os.O_RDWR, 0o666, None)
    if q < 0:
        print("mq_open refused, errno", ctypes.get_errno())
    else:
        print("planted:", lib.mq_send(q, b"planted", 7, 0))
        lib.mq_close(q)
except Exception as e:
    print("refused:", type(e).__name__, e)
