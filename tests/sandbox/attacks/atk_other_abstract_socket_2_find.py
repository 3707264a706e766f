# Aims at other sessions (after atk_other_abstract_socket_1_plant): connect to the abstract unix socket
# an earlier session left. ESCAPED when it answers.
import socket

try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect("\0start_tui_escape_marker")
    if s.recv(16) == b"planted":
        print("ESCAPED: an earlier session's abstract socket answered")
    s.close()
except Exception as e:
    print("refused:", type(e).__name__, e)
