# Aims at host metadata and a channel: the device nodes bound in from the host (/dev/null and the
# rest) are the host's inodes; setting their times writes the host's file and can be seen by every
# other session. ESCAPED when any node's times can be set.
import os

for dev in ("null", "zero", "full", "random", "urandom"):
    path = f"/dev/{dev}"
    try:
        os.utime(path)
        print(f"ESCAPED: the times of the host's {path} were set")
    except OSError as e:
        print(path, "utime refused:", e.strerror)
with open("/dev/null", "w") as f:
    f.write("writing to it still works\n")
