# Aims at the host's network over IPv6: ::1 and the IPv4-mapped ::ffff:127.0.0.1 to the checker's
# listener (its port is put in for the word in capitals below). ESCAPED when a connection is accepted.
import socket

raw = "PORT"
port = int(raw) if raw.isdigit() else 22
for host in ("::ffff:127.0.0.1", "::1"):
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect((host, port))
        s.close()
        print(f"ESCAPED: connected to [{host}]:{port}")
    except Exception as e:
        print(host, "refused:", type(e).__name__, e)
