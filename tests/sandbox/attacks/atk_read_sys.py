# Aims at the host: read host identity and hardware through /sys (DMI serials, block devices, network
# interfaces, cgroup tree). ESCAPED when any of it is readable: the sandbox gets no /sys.
import os

for path in (
    "/sys/class/dmi/id/product_uuid",
    "/sys/class/dmi/id/board_serial",
    "/sys/firmware/dmi/tables/DMI",
    "/sys/kernel/debug",
    "/sys/kernel/security",
    "/sys/block",
    "/sys/class/net",
    "/sys/fs/cgroup",
    "/sys/devices/virtual/dmi/id/product_serial",
):
    try:
        if os.path.isdir(path):
            entries = os.listdir(path)
            if path.endswith("net"):
                entries = [e for e in entries if e != "lo"]
            if entries:
                print(f"ESCAPED: {path} lists {sorted(entries)[:6]}")
            else:
                print(path, "empty")
        else:
            with open(path, "rb") as f:
                data = f.read(64)
            if data:
                print(f"ESCAPED: read {path} ({len(data)} bytes)")
    except Exception as e:
        print("no", path, type(e).__name__)
