"""A real one-node Slurm cluster on loopback for a test: munged, slurmctld and slurmd from Debian's
packages (`slurm-wlm`, `munge`), with their key, sockets, state and logs in a temporary folder.

Every Slurm command of the test talks to it through `SLURM_CONF` (the environment `env()` returns);
nothing of the machine's own configuration is read or changed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "squeue", "srun")


def cannot_run_slurm() -> str | None:
    """Why this machine cannot start the cluster (None: it can)."""
    if os.geteuid() != 0:
        return "slurmd runs jobs as their users and needs root"
    missing = [d for d in DAEMONS if shutil.which(d) is None and not Path(f"/usr/sbin/{d}").is_file()]
    if missing:
        return f"{', '.join(missing)} not installed (Debian: apt-get install slurm-wlm munge)"
    return None


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.conf = folder / "slurm.conf"
        self.procs: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_tool(argv[0]), *argv[1:]], capture_output=True, text=True, env=self.env(), timeout=timeout
        )

    def logs(self) -> str:
        parts = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            path = self.folder / name
            if path.is_file():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:]))
        return "\n".join(parts)

    def job_state(self, job: str) -> str:
        out = self.run("scontrol", "show", "job", job).stdout
        for word in out.split():
            if word.startswith("JobState="):
                return word.split("=", 1)[1]
        return "UNKNOWN"

    def wait(self, jobs: list[str], timeout: float) -> dict[str, str]:
        """Wait until every job has ended; their final states."""
        end = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < end:
            states = {j: self.job_state(j) for j in jobs}
            if all(
                s in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")
                for s in states.values()
            ):
                return states
            if any(s in ("FAILED", "CANCELLED", "TIMEOUT") for s in states.values()) and all(
                s != "RUNNING" for s in states.values()
            ):
                return states  # a dependency failed: the rest would wait forever
            time.sleep(2)
        return states


def _start(cluster: Cluster, argv: list[str], log: str) -> None:
    out = (cluster.folder / log).open("ab")
    cluster.procs.append(
        subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=cluster.env(), start_new_session=True)
    )


@contextmanager
def one_node_cluster(folder: Path) -> Iterator[Cluster]:
    """munged, slurmctld and slurmd in the foreground (their own process groups), stopped on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    cluster = Cluster(folder)
    key = folder / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    sock = folder / "munge.socket"
    for sub in ("state", "spool"):
        (folder / sub).mkdir(exist_ok=True)
    probe = subprocess.run([_tool("slurmd"), "-C"], capture_output=True, text=True).stdout.split()
    hw = dict(w.split("=", 1) for w in probe if "=" in w)
    cpus, memory = hw.get("CPUs", "1"), hw.get("RealMemory", "1000")
    cluster.conf.write_text(
        "\n".join([
            "ClusterName=starttui",
            "SlurmctldHost=localhost(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            f"AuthInfo=socket={sock}",
            "CredType=cred/munge",
            f"StateSaveLocation={folder / 'state'}",
            f"SlurmdSpoolDir={folder / 'spool'}",
            f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
            f"SlurmdPidFile={folder / 'slurmd.pid'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "MpiDefault=none",
            "ReturnToService=2",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            "JobCompType=jobcomp/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "MinJobAge=600",
            "SlurmdParameters=config_overrides",
            f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN",
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        ])
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    try:
        _start(
            cluster,
            [
                _tool("munged"), "--foreground", "--force", f"--key-file={key}", f"--socket={sock}",
                f"--pid-file={folder / 'munged.pid'}", f"--log-file={folder / 'munged.log'}",
                f"--seed-file={folder / 'munged.seed'}",
            ],
            "munged.out",
        )  # fmt: skip
        _wait_for(lambda: sock.exists(), 30, "munged did not open its socket", cluster)
        _start(
            cluster,
            [_tool("slurmctld"), "-D", "-i", "-f", str(cluster.conf), "-L", str(folder / "slurmctld.log")],
            "slurmctld.out",
        )
        _wait_for(lambda: cluster.run("scontrol", "ping").returncode == 0, 60, "slurmctld did not answer", cluster)
        _start(
            cluster,
            [_tool("slurmd"), "-D", "-N", "localhost", "-f", str(cluster.conf), "-L", str(folder / "slurmd.log")],
            "slurmd.out",
        )
        _wait_for(
            lambda: "State=IDLE" in cluster.run("scontrol", "show", "node", "localhost").stdout,
            60,
            "slurmd did not register its node as idle",
            cluster,
        )
        yield cluster
    finally:
        if len(cluster.procs) == 3:  # jobs still running end with the cluster (slurmstepd included)
            subprocess.run([_tool("scancel"), "--partition=debug"], env=cluster.env(), capture_output=True)
            time.sleep(2)
        for proc in reversed(cluster.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def _wait_for(ready: object, timeout: float, what: str, cluster: Cluster) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} within {timeout:.0f} s\n{cluster.logs()}")
