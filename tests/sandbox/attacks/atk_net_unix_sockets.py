# Aims at host services over unix sockets: connect to every socket listed in /proc/net/unix (abstract
# and filesystem ones) and to well-known host sockets (docker, containerd, systemd, dbus, tmux, X11).
# ESCAPED when any connection succeeds; nothing is sent.
import glob
import socket

paths = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/systemd/private",
    "/run/systemd/notify",
    "/run/dbus/system_bus_socket",
    "/tmp/.X11-unix/X0",
    "/run/user/0/bus",
]
paths += glob.glob("/tmp/tmux-*/*") + glob.glob("/run/*.sock") + glob.glob("/run/*/*.sock")
try:
    with open("/proc/net/unix") as f:
        for line in f.read().splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 8:
                paths.append(parts[7])
except OSError as e:
    print("/proc/net/unix refused:", e.strerror)
for path in dict.fromkeys(paths):
    addr = "\0" + path[1:] if path.startswith("@") else path
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        try:
            s = socket.socket(socket.AF_UNIX, kind)
            s.settimeout(1)
            s.connect(addr)
            s.close()
            print(f"ESCAPED: connected to the unix socket {path}")
            break
        except Exception as e:
            last = f"{type(e).__name__} {e}"
    else:
        print("no", path, last)
