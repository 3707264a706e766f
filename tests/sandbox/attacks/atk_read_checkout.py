# Aims at the host: find the project checkout through module __file__ paths (start_tui, the sandbox
# worker), sys.path and /work, and read its source, config and git data. ESCAPED when one is read.
import os
import sys

roots = set()
try:
    import start_tui

    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(start_tui.__file__))))
except Exception as e:
    print("import start_tui refused:", type(e).__name__, e)
for name, mod in list(sys.modules.items()):
    f = getattr(mod, "__file__", None) if name.startswith("start_tui") else None
    if isinstance(f, str):
        parts = os.path.abspath(f).split(os.sep)
        if "start_tui" in parts:
            roots.add(os.sep.join(parts[: parts.index("start_tui")]) or "/")
for p in sys.path + os.environ.get("PYTHONPATH", "").split(os.pathsep):
    if p and "site-packages" not in p and "lib/python" not in p:
        roots.add(p)
roots.update(("/work/main", "/work", os.getcwd()))
print("candidate roots:", sorted(roots))
for root in sorted(roots):
    for rel in (
        "pyproject.toml",
        "README.md",
        ".git/HEAD",
        ".git/config",
        "start_tui/sandbox/worker.py",
        "start_tui/sandbox/confine.py",
        "start_tui/sandbox/client.py",
        "tests/conftest.py",
        ".ci/run",
    ):
        path = os.path.join(root, rel)
        try:
            with open(path, "rb") as f:
                head = f.read(40)
            print(f"ESCAPED: read the checkout file {path}: {head[:20]!r}")
        except Exception as e:
            print("no", path, type(e).__name__)
