# Aims at the host: write into the project checkout, the Python installation and the caller's folders
# (found through module paths and sys.path). ESCAPED when a marker file could be created there; it is
# removed again.
import os
import sys
import sysconfig

targets = set()
try:
    import start_tui

    targets.add(os.path.dirname(os.path.dirname(os.path.abspath(start_tui.__file__))))
    targets.add(os.path.dirname(os.path.abspath(start_tui.__file__)))
except Exception as e:
    print("import start_tui refused:", type(e).__name__)
for name, mod in list(sys.modules.items()):
    f = getattr(mod, "__file__", None) if name.split(".")[0] in ("start_tui", "numpy", "sympy", "os") else None
    if isinstance(f, str):
        targets.add(os.path.dirname(os.path.abspath(f)))
targets.update(p for p in sys.path if p and os.path.isdir(p))
targets.update(v for v in sysconfig.get_paths().values() if os.path.isdir(v))
targets.update(("/work/main", "/work", "/root", "/", "/usr/lib", sys.prefix, os.path.expanduser("~")))
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")  # private scratch inside; the marker cases cover the host's
for d in sorted(targets):
    if any(d == s or d.startswith(s + "/") for s in SCRATCH):
        continue
    path = os.path.join(d, "start_tui_escape_marker")
    try:
        with open(path, "x") as f:
            f.write("x")
        print(f"ESCAPED: created a file in {d}")
        os.remove(path)
    except FileExistsError:
        print("marker already in", d)
    except Exception as e:
        print("no", d, type(e).__name__)
