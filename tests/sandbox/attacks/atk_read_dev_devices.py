# Aims at the host: reach host devices from /dev -- the disk (read its first sector), physical memory,
# the kernel log, KVM, tun, fuse, loop devices, other terminals. ESCAPED when one of them opens.
import glob
import os

candidates = [
    "/dev/vda",
    "/dev/vdb",
    "/dev/sda",
    "/dev/xvda",
    "/dev/nvme0n1",
    "/dev/mem",
    "/dev/kmem",
    "/dev/kmsg",
    "/dev/kvm",
    "/dev/net/tun",
    "/dev/fuse",
    "/dev/loop-control",
    "/dev/loop0",
    "/dev/console",
    "/dev/tty0",
    "/dev/cpu/0/msr",
    "/dev/snapshot",
    "/dev/userfaultfd",
]
candidates += [p for p in glob.glob("/dev/pts/[0-9]*")]
print("/dev holds:", sorted(os.listdir("/dev")) if os.path.isdir("/dev") else "nothing")
for path in candidates:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as e:
        print("no", path, e.strerror)
        continue
    try:
        data = b""
        if path.startswith(("/dev/vd", "/dev/sd", "/dev/xvd", "/dev/nvme", "/dev/loop0")):
            data = os.read(fd, 512)
        print(f"ESCAPED: opened the host device {path}" + (f" and read {len(data)} bytes" if data else ""))
    except OSError as e:
        print(f"ESCAPED: opened the host device {path} (read: {e.strerror})")
    finally:
        os.close(fd)
