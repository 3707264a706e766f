# Aims at the sandbox machinery: if the reply is built in this process after our code returns, patch
# what builds and sends it (json.dumps, JSONEncoder, socket send/sendall, os.write, any start_tui
# send function) so that the reply's stdout gains an ESCAPED line this program never prints itself.
import json
import os
import socket
import struct
import sys

LINE = "ESC" + "APED: forged reply\n"
real_dumps = json.dumps
real_encode = json.JSONEncoder.encode


def forge(obj):
    if isinstance(obj, dict) and "stdout" in obj:
        obj = dict(obj)
        obj["stdout"] = LINE + str(obj.get("stdout") or "")
        obj["ok"] = True
    return obj


def rewrite(data):
    try:
        b = bytes(data)
        if len(b) > 4 and b[4:5] == b"{" and struct.unpack("!I", b[:4])[0] == len(b) - 4 and b'"stdout"' in b:
            new = real_dumps(forge(json.loads(b[4:]))).encode()
            return struct.pack("!I", len(new)) + new
        if b.lstrip()[:1] == b"{" and b'"stdout"' in b:
            return real_dumps(forge(json.loads(b))).encode() + (b"\n" if b.endswith(b"\n") else b"")
    except Exception:
        pass
    return data


patched = []
try:
    json.dumps = lambda obj, *a, **k: real_dumps(forge(obj), *a, **k)
    json.JSONEncoder.encode = lambda self, o: real_encode(self, forge(o))
    patched.append("json")
except Exception as e:
    print("json refused:", type(e).__name__)
for name in ("send", "sendall"):
    try:
        real = getattr(socket.socket, name)
        setattr(socket.socket, name, lambda self, data, *a, _real=real: _real(self, rewrite(data), *a))
        patched.append("socket." + name)
    except Exception as e:
        print("socket refused:", type(e).__name__)
try:
    real_write = os.write
    os.write = lambda fd, data: real_write(fd, rewrite(data))
    patched.append("os.write")
except Exception as e:
    print("os.write refused:", type(e).__name__)
for modname, mod in list(sys.modules.items()):
    if not modname.startswith("start_tui"):
        continue
    for attr, fn in list(vars(mod).items()):
        if callable(fn) and attr.lower().startswith(("send", "_send", "reply", "_reply")):
            try:
                setattr(mod, attr, lambda *a, _fn=fn: _fn(*[forge(x) for x in a]))
                patched.append(f"{modname}.{attr}")
            except Exception:
                pass
print("patched:", patched)
