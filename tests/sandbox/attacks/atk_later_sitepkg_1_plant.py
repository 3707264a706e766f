# Aims at later sessions (with atk_later_sitepkg_2_find): put a module named start_tui_escape_marker on
# every sys.path folder, so that a later session can import it. ESCAPED when it could be created
# outside the scratch folder (the file is left for the finder, which removes it).
import os
import sys

for d in dict.fromkeys(p for p in sys.path if p):
    if d.startswith(("/tmp", "/var/tmp", "/dev/shm")):
        continue
    path = os.path.join(d, "start_tui_escape_marker.py")
    try:
        with open(path, "x") as f:
            f.write("PLANTED = 'by an earlier session'\n")
        print(f"ESCAPED: planted a module in {d}")
    except FileExistsError:
        print("already planted in", d)
    except OSError as e:
        print("cannot plant in", d, e.strerror)
