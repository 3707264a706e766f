# Aims at the host: look through other processes' root and cwd links (/proc/<pid>/root, /cwd) for a
# different filesystem tree, and read /etc/passwd there. ESCAPED when another tree is reachable.
import os

me = os.getpid()
own = os.stat("/")
for p in sorted((d for d in os.listdir("/proc") if d.isdigit()), key=int):
    for link in ("root", "cwd"):
        base = f"/proc/{p}/{link}"
        try:
            st = os.stat(base)
            entries = os.listdir(base)
        except Exception as e:
            print("no", base, type(e).__name__)
            continue
        if link == "root" and (st.st_dev, st.st_ino) != (own.st_dev, own.st_ino):
            print(f"ESCAPED: {base} is another tree: {sorted(entries)[:6]}")
        for rel in ("etc/passwd", "etc/hostname"):
            try:
                with open(os.path.join(base, rel), "rb") as f:
                    f.read(8)
                print(f"ESCAPED: read {base}/{rel}")
            except OSError:
                pass
for path in ("/proc/self/root/../../../etc/passwd", "/.old", "/old_root"):
    try:
        if os.path.isdir(path):
            entries = os.listdir(path)
            print(f"ESCAPED: {path} lists {sorted(entries)[:5]}" if entries else f"{path} is empty")
        else:
            with open(path, "rb") as f:
                f.read(8)
            print("ESCAPED: read", path)
    except Exception as e:
        print("no", path, type(e).__name__)
