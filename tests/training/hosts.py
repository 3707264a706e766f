"""Test hosts on this machine: network namespaces joined by a veth pair, each with its own host name.

`ip netns exec NS` bind-mounts `/etc/netns/NS/hosts` over `/etc/hosts`, and `unshare --uts` gives each
host its own name, so a program in one resolves the other by name and finds itself by its own name,
as on two machines; the veth pair is the only link between them (the byte counters say what crossed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Host:
    name: str
    netns: str
    link: str
    address: str

    def command(self, argv: list[str]) -> list[str]:
        """argv run on this host (its network, its /etc/hosts, its host name)."""
        inner = f'hostname {self.name} && exec "$@"'
        return ["ip", "netns", "exec", self.netns, "unshare", "--uts", "sh", "-c", inner, "sh", *argv]

    def link_bytes(self) -> dict[str, int]:
        """Bytes sent and received on this host's end of the veth pair."""
        read = ["ip", "netns", "exec", self.netns, "cat"]
        stats = f"/sys/class/net/{self.link}/statistics"
        out = subprocess.run([*read, f"{stats}/tx_bytes", f"{stats}/rx_bytes"], capture_output=True, text=True)
        tx, rx = out.stdout.split()
        return {"tx": int(tx), "rx": int(rx)}


def cannot_make_hosts() -> str | None:
    """Why this machine cannot make namespace hosts (None: it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _run(*argv: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip()}")


@contextmanager
def two_hosts(names: tuple[str, str] = ("node0", "node1")) -> Iterator[tuple[Host, Host]]:
    """Two hosts on 10.231.N.0/24 joined by a veth pair; removed, with their /etc/netns files, on exit."""
    tag = f"st{os.getpid() % 100000}"
    subnet = 10 + os.getpid() % 200
    hosts = tuple(Host(name, f"{tag}-{name}", f"v{tag}{i}", f"10.231.{subnet}.{i + 1}") for i, name in enumerate(names))
    made: list[str] = []
    try:
        for h in hosts:
            _run("ip", "netns", "add", h.netns)
            made.append(h.netns)
            folder = Path("/etc/netns") / h.netns
            folder.mkdir(parents=True, exist_ok=True)
            table = "".join(f"{o.address} {o.name}\n" for o in hosts)
            (folder / "hosts").write_text(f"127.0.0.1 localhost\n{table}", encoding="utf-8")
        a, b = hosts
        _run("ip", "link", "add", a.link, "type", "veth", "peer", "name", b.link)
        for h in hosts:
            _run("ip", "link", "set", h.link, "netns", h.netns)
            _run("ip", "-n", h.netns, "addr", "add", f"{h.address}/24", "dev", h.link)
            _run("ip", "-n", h.netns, "link", "set", h.link, "up")
            _run("ip", "-n", h.netns, "link", "set", "lo", "up")
        yield a, b
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)
