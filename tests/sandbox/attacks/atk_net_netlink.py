# Aims at the host's network configuration: list interfaces through netlink (RTM_GETLINK) and
# if_nameindex, and subscribe to kernel uevents. ESCAPED when an interface other than loopback is seen
# (the host's network namespace) or a host kernel uevent arrives.
import os
import socket
import struct

try:
    names = [n for _, n in socket.if_nameindex()]
    print("if_nameindex:", names)
    if [n for n in names if n != "lo"]:
        print("ESCAPED: host interfaces visible:", [n for n in names if n != "lo"])
except Exception as e:
    print("if_nameindex refused:", type(e).__name__, e)

try:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.settimeout(2)
    s.bind((0, 0))
    msg = struct.pack("=LHHLL", 32, 18, 0x301, 1, 0) + struct.pack("=BxHiII", 0, 0, 0, 0, 0)
    s.send(msg)
    found = []
    done = False
    while not done:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            length, mtype = struct.unpack_from("=LH", data, off)
            if mtype == 3 or length < 16:  # NLMSG_DONE
                done = True
                break
            if mtype == 16:  # RTM_NEWLINK: attributes follow the 16-byte ifinfomsg
                a = off + 32
                while a + 4 <= off + length:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    if atype == 3:  # IFLA_IFNAME
                        found.append(data[a + 4 : a + alen].rstrip(b"\0").decode())
                    a += (alen + 3) & ~3
            off += (length + 3) & ~3
    print("netlink links:", found)
    if [n for n in found if n != "lo"]:
        print("ESCAPED: netlink shows host interfaces:", [n for n in found if n != "lo"])
except Exception as e:
    print("netlink refused:", type(e).__name__, e)

try:
    u = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)  # NETLINK_KOBJECT_UEVENT
    u.bind((os.getpid(), 1))
    u.settimeout(1.5)
    try:
        event = u.recv(4096)
        print(f"ESCAPED: received a host kernel uevent: {event[:40]!r}")
    except TimeoutError:
        print("uevent socket bound, but no host event arrived")
except Exception as e:
    print("uevent refused:", type(e).__name__, e)
