# Aims at later sessions (after atk_later_sitepkg_1_plant): import the module an earlier session planted
# on sys.path. ESCAPED when it imports; then removes the planted file where it can.
import os

try:
    import start_tui_escape_marker as planted

    print(f"ESCAPED: imported a module planted by an earlier session: {planted.PLANTED}")
    try:
        os.remove(planted.__file__)
    except OSError as e:
        print("could not remove it:", e.strerror)
except ImportError as e:
    print("nothing planted:", e)
except Exception as e:
    print("refused:", type(e).__name__, e)
