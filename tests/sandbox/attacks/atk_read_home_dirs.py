# Aims at the host: read the operator's home (~/.bashrc, /root, /root/.ssh, /home/*, pip caches).
# ESCAPED when a file there can be read or the folder shows more than the bound Python runtime.
import glob
import os

for path in (
    "~/.bashrc",
    "/root/.bashrc",
    "/root/.profile",
    "/root/.bash_history",
    "/root/.gitconfig",
    "/root/.ssh/authorized_keys",
    "/root/.ssh/id_rsa",
    "/root/.ssh/id_ed25519",
    "/root/.netrc",
    "/root/.cache/pip",
    "/root/.config",
    *glob.glob("/home/*/.bashrc"),
):
    full = os.path.expanduser(path)
    try:
        if os.path.isdir(full):
            print(f"ESCAPED: {full} is visible: {sorted(os.listdir(full))[:5]}")
            continue
        with open(full, "rb") as f:
            head = f.read(16)
        print(f"ESCAPED: read {full} ({len(head)} bytes)")
    except Exception as e:
        print("no", full, type(e).__name__)

for folder, allowed in (("/root", {".pyenv"}), ("/root/.pyenv", {"versions"}), ("/home", set())):
    try:
        extra = set(os.listdir(folder)) - allowed
        if extra:
            print(f"ESCAPED: {folder} shows {sorted(extra)[:6]}")
        else:
            print(folder, "shows only", sorted(allowed))
    except Exception as e:
        print("no", folder, type(e).__name__)
