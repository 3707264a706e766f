# Aims at the host: read host configuration and secrets (/etc/passwd, /etc/shadow, host keys,
# /container_info.json). ESCAPED when any of them could be read at all: a minimal root has no host /etc.
import glob

paths = [
    "/etc/passwd",
    "/etc/shadow",
    "/etc/hostname",
    "/etc/machine-id",
    "/etc/sudoers",
    "/etc/group",
    "/container_info.json",
    *glob.glob("/etc/ssh/ssh_host_*_key"),
]
for path in paths:
    try:
        with open(path, "rb") as f:
            head = f.read(32)
        print(f"ESCAPED: read {path}: {len(head)} bytes")
    except Exception as e:
        print("no", path, type(e).__name__, e)
