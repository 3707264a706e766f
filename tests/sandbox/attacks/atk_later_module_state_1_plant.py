# Aims at later sessions (with atk_later_module_state_2_find, run in a separate session): tamper with
# state a shared worker would carry into the next session -- math.gcd lies, a marker attribute on
# builtins and on math, a fake module in sys.modules. Planting alone prints nothing to find.
import builtins
import math
import sys
import types

done = []
for how, fn in (
    ("math.gcd", lambda: setattr(math, "gcd", lambda *a: 1)),
    ("builtins", lambda: setattr(builtins, "start_tui_escape_marker", "planted")),
    ("math attr", lambda: setattr(math, "start_tui_escape_marker", "planted")),
    ("sys.modules", lambda: sys.modules.__setitem__("start_tui_escape_marker", types.ModuleType("planted"))),
):
    try:
        fn()
        done.append(how)
    except Exception as e:
        print(how, "refused:", type(e).__name__)
print("planted:", done)
