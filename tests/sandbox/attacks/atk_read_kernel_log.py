# Aims at the host: read the host kernel's log (syslog(2), /dev/kmsg), /proc/kcore and privileged /proc
# files. ESCAPED when a read succeeds that needs privilege on this host (dmesg_restrict is honoured).
import ctypes
import os
import platform

try:
    with open("/proc/sys/kernel/dmesg_restrict") as f:
        restrict = f.read().strip()
except OSError:
    restrict = "?"
print("dmesg_restrict:", restrict)
try:
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(4096)
    n = libc.klogctl(3, buf, 4096)  # SYSLOG_ACTION_READ_ALL
    print("klogctl:", n, "errno", ctypes.get_errno())
    if n > 0 and restrict != "0":
        print(f"ESCAPED: read {n} bytes of the host kernel log through syslog(2)")
except Exception as e:
    print("klogctl refused:", type(e).__name__, e)

for path in ("/dev/kmsg", "/proc/kmsg", "/proc/kcore", "/proc/vmallocinfo", "/proc/slabinfo"):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        print("no", path, e.strerror)
        continue
    try:
        data = os.read(fd, 256)
        print(f"ESCAPED: read {len(data)} bytes from {path}")
    except OSError as e:
        if path in ("/dev/kmsg", "/proc/kmsg", "/proc/kcore"):
            print(f"ESCAPED: opened {path} ({e.strerror} on read)")
    finally:
        os.close(fd)
try:
    page = ctypes.create_string_buffer(4096)
    page[0] = b"x"
    vaddr = ctypes.addressof(page)
    fd = os.open("/proc/self/pagemap", os.O_RDONLY)
    entry = int.from_bytes(os.pread(fd, 8, (vaddr // 4096) * 8), "little")
    os.close(fd)
    pfn, present = entry & ((1 << 55) - 1), entry >> 63
    print("pagemap entry present", present, "pfn", pfn)
    if present and pfn:
        print("ESCAPED: /proc/self/pagemap shows physical frame numbers (CAP_SYS_ADMIN)")
except Exception as e:
    print("pagemap refused:", type(e).__name__, e)
print("machine:", platform.machine())
