# Aims at host privileges without any system call: are we host root after all? Either directly (uid 0 in
# the initial user namespace) or through a user-namespace map that sends our uid to host uid 0, which
# shows as host-root-owned system folders (/usr/lib, /lib) belonging to us. ESCAPED in either case.
import os

ns = os.readlink("/proc/self/ns/user")
euid = os.geteuid()
try:
    with open("/proc/self/uid_map") as f:
        uid_map = f.read().split()
except OSError:
    uid_map = []
try:
    with open("/proc/sys/kernel/overflowuid") as f:
        overflow = int(f.read())
except (OSError, ValueError):
    overflow = 65534
print("user ns", ns, "euid", euid, "uid_map", uid_map, "overflow uid", overflow)
if ns == "user:[4026531837]" and euid == 0:
    print("ESCAPED: running as root in the host's user namespace")
for path in ("/usr/lib", "/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"):
    try:
        st = os.stat(path)
    except OSError:
        continue
    print(path, "owned by", st.st_uid)
    if st.st_uid == euid and euid != overflow:
        print(f"ESCAPED: {path}, owned by root on the host, belongs to our uid {euid}: we are host uid 0")
        break
