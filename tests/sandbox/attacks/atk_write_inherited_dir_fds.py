# Aims at the host: use directory descriptors the sandbox may have inherited (openat relative to them,
# fchdir and climb with ".."), to write the marker outside the sandbox root. ESCAPED when an inherited
# directory fd let us create a file; the file is removed.
import os
import stat

found = 0
for fd in range(3, 1024):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    try:
        where = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        where = "?"
    print("fd", fd, stat.filemode(st.st_mode), where)
    if not stat.S_ISDIR(st.st_mode):
        continue
    found += 1
    try:
        nfd = os.open("start_tui_escape_marker", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
        os.close(nfd)
        os.unlink("start_tui_escape_marker", dir_fd=fd)
        print(f"ESCAPED: created a file through inherited directory fd {fd} ({where})")
    except OSError as e:
        print("fd", fd, "create refused:", e.strerror)
    try:
        here = os.open(".", os.O_RDONLY)
        os.fchdir(fd)
        for _ in range(32):
            os.chdir("..")
        top = set(os.listdir("."))
        os.fchdir(here)
        os.close(here)
        if {"etc", "home", "work", "root"} <= top:
            print(f"ESCAPED: climbing from fd {fd} reached the host root")
    except OSError as e:
        print("climb refused:", e.strerror)
print("inherited directory fds:", found)
