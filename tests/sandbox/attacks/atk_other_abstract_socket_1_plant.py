# Aims at other sessions (with atk_other_abstract_socket_2_find): bind the abstract unix socket name
# "start_tui_escape_marker" and leave a child serving it for 40 s. ESCAPED here when the name is
# already taken (the abstract namespace is shared with an earlier session).
import os
import socket
import time

try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind("\0start_tui_escape_marker")
    except OSError as e:
        if e.errno == 98:  # EADDRINUSE
            print("ESCAPED: the abstract name is already held by an earlier session")
        raise
    s.listen(4)
    if os.fork() == 0:
        s.settimeout(1)
        start = time.monotonic()
        while time.monotonic() - start < 40:
            try:
                c, _ = s.accept()
                c.sendall(b"planted")
                c.close()
            except OSError:
                pass
        os._exit(0)
    print("planted")
except Exception as e:
    print("refused:", type(e).__name__, e)
