# Aims at the outside network: resolve public names (needs a resolver and a route, or the host's
# /etc/hosts). ESCAPED when a public name resolves to a non-loopback address.
import socket

for name in ("example.com", "pypi.org", "metadata.google.internal"):
    try:
        addrs = {a[4][0] for a in socket.getaddrinfo(name, 443)}
        public = [a for a in addrs if not a.startswith(("127.", "::1"))]
        if public:
            print(f"ESCAPED: resolved {name} to {public[:3]}")
        else:
            print(name, "resolved only to loopback")
    except Exception as e:
        print(name, "refused:", type(e).__name__, e)
