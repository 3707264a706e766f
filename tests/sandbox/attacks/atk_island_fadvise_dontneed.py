# Aims at a channel between sessions through the page cache: posix_fadvise(POSIX_FADV_DONTNEED) evicts
# a shared read-only file's pages (the sending half: another session times its reads of that file);
# POSIX_FADV_WILLNEED loads them. ESCAPED when either advice on a shared file is accepted.
import os

fd = os.open(os.__file__, os.O_RDONLY)  # a file of the host's Python library, bound read-only
for name in ("POSIX_FADV_DONTNEED", "POSIX_FADV_WILLNEED"):
    try:
        os.posix_fadvise(fd, 0, 0, getattr(os, name))
        print(f"ESCAPED: posix_fadvise({name}) accepted on a shared read-only file")
    except OSError as e:
        print(name, "refused:", e.strerror)
