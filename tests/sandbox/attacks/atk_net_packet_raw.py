# Aims at the host's network traffic: packet sockets (AF_PACKET) and raw IP/ICMP sockets, which sniff
# and forge traffic. ESCAPED when one opens and there is an interface beyond loopback to use it on,
# or it actually receives a packet.
import contextlib
import socket

try:
    others = [n for _, n in socket.if_nameindex() if n != "lo"]
except OSError:
    others = []
for name, args in (
    ("AF_PACKET raw", (socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))),
    ("AF_PACKET dgram", (socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))),
    ("raw ICMP", (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
    ("raw IP", (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)),
    ("ping ICMP", (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)),
):
    try:
        s = socket.socket(*args)
    except Exception as e:
        print(name, "refused:", type(e).__name__, e)
        continue
    s.settimeout(1)
    got = 0
    with contextlib.suppress(OSError):
        got = len(s.recv(65536)) if args[0] == socket.AF_PACKET else 0
    if others or got:
        print(f"ESCAPED: opened a {name} socket (interfaces {others}, received {got} bytes)")
    else:
        print(name, "opened, but only the loopback is there")
    s.close()
