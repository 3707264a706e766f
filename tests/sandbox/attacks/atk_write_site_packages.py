# Aims at later sessions: tamper with the installed packages and stdlib that every session imports --
# open numpy/sympy/mpmath/os modules and their cached bytecode for writing (nothing is written), and
# create a new module next to them. ESCAPED when any of it is writable; created files are removed.
import importlib.util
import os

for name in ("numpy", "sympy", "mpmath", "os", "json", "fractions"):
    try:
        spec = importlib.util.find_spec(name)
        origin = spec.origin
    except Exception as e:
        print("no spec for", name, type(e).__name__)
        continue
    if not origin or not os.path.isabs(origin):
        print("no file behind", name, origin)  # frozen modules: nothing on disk to tamper with
        continue
    cached = getattr(spec, "cached", None)
    for path in (origin, cached):
        if not path:
            continue
        try:
            fd = os.open(path, os.O_WRONLY)  # no O_TRUNC: the file stays as it is
            os.close(fd)
            print(f"ESCAPED: {path} is writable")
        except OSError as e:
            print("not writable:", os.path.basename(path), e.strerror)
    folder = os.path.dirname(origin)
    for d in (folder, os.path.join(folder, "__pycache__"), os.path.dirname(folder)):
        probe = os.path.join(d, "start_tui_escape_marker.py")
        try:
            with open(probe, "x") as f:
                f.write("PLANTED = True\n")
            os.remove(probe)
            print(f"ESCAPED: created a module in {d}")
        except FileExistsError:
            print("marker module already in", d)
        except OSError as e:
            print("cannot create in", d, e.strerror)
