"""The two-axis test-time scaling picture: accuracy against parallel samples (maj@k) and against
sequential hint rounds, placed at the generated tokens each costs per problem.

From an eval folder's rows: the parallel axis takes the base setting (hints on with the fewest
rounds, or no hints), and for k = 1..K the vote of each problem's first k samples (the grouping
recorded in `votes.jsonl`, so no answer is compared twice) against k samples' tokens; the
sequential axis takes pass@1 and the mean tokens of one sample at each round count. Written as a
terminal table and as `scaling.png`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from start_tui.engine.vote import Vote


@dataclass(frozen=True)
class Point:
    axis: str
    """`parallel` or `sequential`."""
    step: int
    """Samples voted (parallel) or hint rounds (sequential)."""
    tokens: float
    """Mean generated tokens per problem."""
    accuracy: float
    problems: int

    @property
    def label(self) -> str:
        return f"K={self.step}" if self.axis == "parallel" else f"rounds={self.step}"


def _setting(row: dict[str, Any]) -> tuple[bool, int]:
    return bool(row["hints"]), int(row["round"])


def base_setting(settings: set[tuple[bool, int]]) -> tuple[bool, int] | None:
    on = sorted(r for h, r in settings if h)
    if on:
        return True, on[0]
    return (False, 0) if (False, 0) in settings else None


def two_axis(rows: list[dict[str, Any]], votes: list[dict[str, Any]]) -> dict[str, list[Point]]:
    """Scaling points per benchmark: the parallel axis (needs votes of K > 1) and the sequential one."""
    out: dict[str, list[Point]] = {}
    by_bench: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_bench[r["benchmark"]].append(r)
    for bench, bench_rows in sorted(by_bench.items()):
        points: list[Point] = []
        tokens: dict[tuple[tuple[bool, int], str], dict[int, int]] = defaultdict(dict)
        correct: dict[tuple[tuple[bool, int], str], dict[int, bool]] = defaultdict(dict)
        for r in bench_rows:
            key = (_setting(r), str(r["id"]))
            tokens[key][int(r["sample"])] = int(r.get("tokens") or 0)
            correct[key][int(r["sample"])] = bool(r["correct"])
        base = base_setting({s for s, _ in tokens})
        bench_votes = [v for v in votes if v["benchmark"] == bench and _setting(v) == base]
        if base is not None and bench_votes:
            k_max = min(int(v["vote"]["samples"]) for v in bench_votes)
            for k in range(1, k_max + 1):
                right, spent = 0, 0
                for v in bench_votes:
                    vote = Vote.from_dict(v["vote"]).first(k)
                    right += vote.winner is not None and vote.winner.members[0] in v["correct_members"]
                    spent += sum(n for s, n in tokens[(base, str(v["id"]))].items() if s < k)
                n = len(bench_votes)
                points.append(Point("parallel", k, spent / n, right / n, n))
        for setting in sorted({s for s, _ in tokens}):
            if not setting[0]:
                continue
            keys = [key for key in tokens if key[0] == setting]
            acc = sum(sum(correct[key].values()) / len(correct[key]) for key in keys) / len(keys)
            mean = sum(sum(tokens[key].values()) / len(tokens[key]) for key in keys) / len(keys)
            points.append(Point("sequential", setting[1], mean, acc, len(keys)))
        if points:
            out[bench] = points
    return out


def render_two_axis(curves: dict[str, list[Point]], console: Console) -> None:
    for bench, points in curves.items():
        table = Table(title=f"{bench}: accuracy against generated tokens, two ways to spend them", title_justify="left")
        table.add_column("axis")
        table.add_column("step")
        table.add_column("tokens / problem", justify="right")
        table.add_column("accuracy", justify="right")
        table.add_column("measure")
        for p in points:
            measure = f"maj@{p.step}" if p.axis == "parallel" else "pass@1"
            table.add_row(p.axis, p.label, f"{p.tokens:.0f}", f"{100 * p.accuracy:.1f}%", measure)
        console.print(table)


def save_two_axis(curves: dict[str, list[Point]], path: Path) -> Path | None:
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    styles = {"parallel": ("o-", "parallel: maj@K"), "sequential": ("s--", "sequential: hint rounds")}
    for bench, points in curves.items():
        for axis, (style, name) in styles.items():
            pts = [p for p in points if p.axis == axis]
            if not pts:
                continue
            ax.plot([p.tokens for p in pts], [100 * p.accuracy for p in pts], style, label=f"{bench} · {name}")
            for p in pts:
                ax.annotate(
                    p.label, (p.tokens, 100 * p.accuracy), textcoords="offset points", xytext=(4, 4), fontsize=7
                )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("generated tokens per problem")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Test-time scaling: parallel samples vs sequential hint rounds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
