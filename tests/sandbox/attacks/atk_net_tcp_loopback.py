# Aims at the host's network: TCP to the checker's listener on 127.0.0.1 (its port is put in for the
# word in capitals below), by address and by name. ESCAPED when a connection is accepted.
import socket

raw = "PORT"
port = int(raw) if raw.isdigit() else 22
for host in ("127.0.0.1", "localhost", "127.1.2.3"):
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(b"hello from the sandbox")
        s.close()
        print(f"ESCAPED: connected to {host}:{port}")
    except Exception as e:
        print(host, "refused:", type(e).__name__, e)
