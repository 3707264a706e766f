# Aims at the host's network over UDP: send to the loopback and to outside resolvers, and wait for a
# DNS answer. ESCAPED when a datagram to a non-loopback address leaves (a route exists) or an answer
# comes back.
import os
import socket
import struct

raw = "PORT"
port = int(raw) if raw.isdigit() else 53
query = struct.pack("!HHHHHH", int.from_bytes(os.urandom(2), "big"), 0x0100, 1, 0, 0, 0)
query += b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.5)
    try:
        s.sendto(b"hello", ("127.0.0.1", port))
        print("sent to the loopback")
    except OSError as e:
        print("loopback refused:", e)
    for server in ("8.8.8.8", "1.1.1.1", "10.0.2.3", "169.254.169.254"):
        try:
            s.sendto(query, (server, 53))
            print(f"ESCAPED: a datagram to {server} left the sandbox (there is a route)")
            data, addr = s.recvfrom(512)
            print(f"ESCAPED: {addr[0]} answered with {len(data)} bytes")
        except OSError as e:
            print(server, "refused:", e)
except Exception as e:
    print("refused:", type(e).__name__, e)
