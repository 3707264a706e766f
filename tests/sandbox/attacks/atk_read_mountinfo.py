# Aims at the host: find host paths through /proc/self/mountinfo and the root listing -- the host's
# disk as "/", host folders (/etc, /home, /root, /run, /work, an old root kept at /.old) mounted inside.
import os

SENSITIVE = {"/etc", "/home", "/root", "/boot", "/srv", "/opt", "/.old", "/old_root", "/work", "/work/main"}
# what a minimal root may show in these folders: mount points of the runtime, the venv and scratch
ALLOWED = {
    "/root": {".pyenv"},
    "/work": {"main"},
    "/work/main": {".venv"},
    "/var": {"tmp"},
    "/run": {"lock", "shm"},
    "/home": set(),
    "/etc": set(),
    "/srv": set(),
    "/opt": set(),
    "/boot": set(),
    "/mnt": set(),
    "/old_root": set(),
    "/.old": set(),
}
try:
    with open("/proc/self/mountinfo") as f:
        lines = f.read().splitlines()
    print(len(lines), "mounts")
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        point, opts = fields[4], fields[5]
        fstype = right.split()[0] if right else "?"
        if point == "/" and fstype in ("ext4", "xfs", "btrfs", "overlay", "virtiofs", "9p") and "rw" in opts.split(","):
            print(f"ESCAPED: the root is the host's writable {fstype} disk")
        if point in SENSITIVE and fstype not in ("tmpfs", "proc"):
            print(f"ESCAPED: host folder mounted inside: {point} ({fstype})")
except Exception as e:
    print("mountinfo refused:", type(e).__name__, e)

for folder, allowed in ALLOWED.items():
    try:
        extra = set(os.listdir(folder)) - allowed
    except OSError:
        continue
    if extra:
        print(f"ESCAPED: {folder} is visible with {sorted(extra)[:6]}")
    else:
        print(folder, "holds only mount points", sorted(allowed))
