# Aims at host control files: open (for writing, without writing) the files that give a process root
# on the host or down the machine -- core_pattern, modprobe, uevent_helper, sysrq-trigger, binfmt_misc,
# drop_caches, cgroup release agents and the root cgroup's process list. ESCAPED when one opens.
import glob
import os

paths = [
    "/proc/sysrq-trigger",
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/vm/drop_caches",
    "/proc/sys/fs/binfmt_misc/register",
    "/sys/kernel/uevent_helper",
    "/proc/sys/kernel/panic",
    "/proc/sys/kernel/randomize_va_space",
    "/sys/fs/cgroup/cgroup.procs",
    "/proc/sys/fs/suid_dumpable",
]
paths += glob.glob("/sys/fs/cgroup/*/release_agent") + glob.glob("/sys/fs/cgroup/*/cgroup.procs")
for path in paths:
    try:
        fd = os.open(path, os.O_WRONLY)  # no O_TRUNC, nothing is written
        os.close(fd)
        print(f"ESCAPED: {path} is open for writing")
    except OSError as e:
        print("no", path, e.strerror)
