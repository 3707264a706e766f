# Aims at the host: create the escape marker as things other than a regular file -- a directory, a
# symlink, a hard link, a FIFO, a mknod'ed regular file -- in every world-writable host folder.
import contextlib
import os
import stat

for d in ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm", "/dev/mqueue"]:
    path = os.path.join(d, "start_tui_escape_marker")
    src = os.path.join(d, "start_tui_fill_link_source")
    ways = (
        ("mkdir", lambda p=path: os.mkdir(p)),
        ("symlink", lambda p=path: os.symlink("/", p)),
        ("mkfifo", lambda p=path: os.mkfifo(p)),
        ("mknod", lambda p=path: os.mknod(p, stat.S_IFREG | 0o644)),
        ("link", lambda p=path, s=src: (open(s, "w").close(), os.link(s, p))),
    )
    for how, fn in ways:
        try:
            fn()
            print("made", path, "as", how)
            break
        except Exception as e:
            print("no", path, "as", how, type(e).__name__)
    with contextlib.suppress(OSError):
        os.remove(src)
