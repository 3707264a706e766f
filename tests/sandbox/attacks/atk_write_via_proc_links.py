# Aims at the host: reach another mount namespace's /tmp through /proc/<pid>/root and /proc/<pid>/cwd
# of every visible process, and write the marker there. ESCAPED when the tree is not our own and the
# write went through.
import os

own = os.stat("/")
for p in ["self", "1", str(os.getppid())] + [d for d in os.listdir("/proc") if d.isdigit()]:
    for link in ("root", "cwd"):
        base = f"/proc/{p}/{link}"
        try:
            st = os.stat(base)
        except OSError:
            continue
        foreign = link == "root" and (st.st_dev, st.st_ino) != (own.st_dev, own.st_ino)
        for sub in ("tmp", "var/tmp", "dev/shm", "run/lock", "."):
            path = os.path.join(base, sub, "start_tui_escape_marker")
            try:
                with open(path, "w") as f:
                    f.write("x")
                if foreign:
                    print(f"ESCAPED: wrote {path} in another process's tree")
            except OSError:
                pass
print("done")
