# Aims at other sessions and the kernel: kernel keyrings are shared by every process of a uid and outlive
# the process. Look for a key an earlier session left in the user keyring (ESCAPED if found), then try
# to add one (ESCAPED if add_key is allowed at all; the key stays for a later run to find).
import ctypes
import platform

NR = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(platform.machine(), (248, 250))
KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING, KEYCTL_SEARCH = -4, -3, 10
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for ring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING):
    found = libc.syscall(
        ctypes.c_long(NR[1]),
        ctypes.c_long(KEYCTL_SEARCH),
        ctypes.c_long(ring),
        b"user",
        b"start_tui_escape_marker",
        ctypes.c_long(0),
    )
    if found > 0:
        print(f"ESCAPED: found a key an earlier session left in keyring {ring}")
    else:
        print("search", ring, "errno", ctypes.get_errno())
key = libc.syscall(
    ctypes.c_long(NR[0]),
    b"user",
    b"start_tui_escape_marker",
    b"planted",
    ctypes.c_long(7),
    ctypes.c_long(KEY_SPEC_USER_KEYRING),
)
if key > 0:
    print("ESCAPED: add_key put a key into the user keyring")
else:
    print("add_key refused, errno", ctypes.get_errno())
