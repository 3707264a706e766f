# Aims at later sessions (after atk_later_module_state_1_plant in another session): look for the
# tampering an earlier session left in shared interpreter state. ESCAPED when any of it is here.
import builtins
import math
import sys

if math.gcd(12, 18) != 6:
    print("ESCAPED: math.gcd lies, tampered by an earlier session")
if getattr(builtins, "start_tui_escape_marker", None) == "planted":
    print("ESCAPED: builtins carry an earlier session's marker")
if getattr(math, "start_tui_escape_marker", None) == "planted":
    print("ESCAPED: math carries an earlier session's marker")
if "start_tui_escape_marker" in sys.modules:
    print("ESCAPED: sys.modules holds an earlier session's fake module")
print("checked")
