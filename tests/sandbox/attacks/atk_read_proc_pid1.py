# Aims at the host: identify and read the processes around us -- pid 1's command line and
# environment, and every visible process. ESCAPED when a host process (the VM's init, a shell, the
# checker, the host CLI) is visible, or when another process's environment holds the caller's secret.
import os

HOST_SIGNS = (
    b"process_api",
    b"systemd",
    b"/sbin/init",
    b"firecracker",
    b"containerd",
    b"dockerd",
    b"sshd",
    b"bash",
    b"sandbox-boundary",
    b"pytest",
    b"tmux",
    b"start-tui exec",
)
me = os.getpid()
with open("/proc/self/cmdline", "rb") as f:
    own_cmd = f.read().replace(b"\0", b" ").strip()  # a process forked from our own parent looks like us
seen = []
for p in sorted((d for d in os.listdir("/proc") if d.isdigit()), key=int):
    try:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").strip()
    except OSError as e:
        print("cmdline of", p, "refused:", e)
        continue
    seen.append(p)
    if int(p) != me and cmd != own_cmd and any(s in cmd for s in HOST_SIGNS):
        print(f"ESCAPED: host process visible: pid {p}: {cmd[:80]!r}")
    try:
        with open(f"/proc/{p}/environ", "rb") as f:
            env = f.read()
        if b"START_TUI_SECRET=" in env:
            print(f"ESCAPED: pid {p} environment holds the caller's secret")
    except OSError as e:
        print("environ of", p, "refused:", e)
print("visible pids:", seen[:20], "total", len(seen))
