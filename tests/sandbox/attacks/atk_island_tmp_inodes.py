# Aims at kernel memory through the private /tmp: its size counts data blocks only, and every empty
# file costs an inode of kernel memory, so file count must be capped too. ESCAPED when far more files
# can be made than a session needs (stops at 20000 and cleans up).
import os

made = 0
try:
    while made < 20000:
        with open(f"/tmp/f{made:05d}_" + "x" * 200, "w"):
            pass
        made += 1
except OSError as e:
    print("stopped after", made, "files:", e.strerror)
for name in os.listdir("/tmp"):
    os.unlink(os.path.join("/tmp", name))
if made >= 20000:
    print("ESCAPED: 20000 empty files in the private /tmp")
