# Aims at the host: find the caller's environment (START_TUI_SECRET, HOME, tokens) in our own
# environment, /proc/self/environ, the parent's and every visible process's environ. Prints any
# secret found (the checker looks for it) and ESCAPED when one is there.
import os

SUSPECT = ("START_TUI_SECRET", "TOKEN", "API_KEY", "AWS_", "SSH_AUTH_SOCK", "OPENAI", "HF_")
# variables of the caller's shell that a cleared sandbox environment never has
HOST_KEYS = {
    "PWD",
    "OLDPWD",
    "SHELL",
    "TERM",
    "USER",
    "LOGNAME",
    "MAIL",
    "VIRTUAL_ENV",
    "SANDBOX_CMD",
    "SANDBOX_RAW_CMD",
    "PYTEST_CURRENT_TEST",
    "SSH_CONNECTION",
    "TMUX",
}
own = dict(os.environ)
print("own environment keys:", sorted(own))
for k, v in own.items():
    if any(s in k for s in SUSPECT) or k in HOST_KEYS:
        print(f"ESCAPED: own environment holds {k}={v}")
pids = ["self", str(os.getppid())] + [d for d in os.listdir("/proc") if d.isdigit()]
for p in dict.fromkeys(pids):
    try:
        with open(f"/proc/{p}/environ", "rb") as f:
            raw = f.read()
    except OSError as e:
        print("environ of", p, "refused:", e.strerror)
        continue
    for item in raw.split(b"\0"):
        key, _, value = item.decode(errors="replace").partition("=")
        if any(s in key for s in SUSPECT) or key in HOST_KEYS:
            print(f"ESCAPED: /proc/{p}/environ holds {key}={value}")
