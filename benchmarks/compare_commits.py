"""Measure two commits in the same run: old code on its database, new code on its database.

Each side is a checkout (a git worktree with its `.venv`, or a link to one) and the URL of a
database seeded by that checkout's `seed_demo` (the same --products and seed). The
benchmarks (search_latency.py, storefront_pages.py --seeded) run side after side, the order
alternating per round (old new, new old, ...), so a change in the machine's load hits both
sides alike. By default both sides run the benchmark scripts next to this one (the same
measurement of both codes; `SHOP_CODE_DIR` points them at the side's code); `--own-scripts`
runs each checkout's own scripts instead, for when the new scripts call what the old code
does not have.

Prints, per benchmark, a table of every row's p50/p95 per run, the ratio new/old of the
median p95 (and p50) over the rounds, the load average before and after each run, each run's
exit status (1: a deep page was empty or refused, or page 1 missed the most popular
products), and the findings lines. Raw outputs go to --out.

    .venv/bin/python benchmarks/compare_commits.py \\
        --old /work/wt/base postgres://postgres@127.0.0.1:5432/shop_1m_base \\
        --new /work/lead postgres://postgres@127.0.0.1:5432/shop_1m_new --rounds 2
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROW = re.compile(r"^\s+(\S.*?)\s+n=(\d+)\s+p50=\s*([\d.]+) ms\s+p95=\s*([\d.]+) ms")
FINDING = re.compile(r"EMPTY|400:|DOES NOT HOLD|page 1 holds|skipped:|Aborted|Traceback|Error")
BENCHMARKS = {
    "search": ("search_latency.py", []),
    "storefront": ("storefront_pages.py", ["--seeded"]),
}


@dataclass
class Side:
    name: str
    code: Path
    database_url: str

    @property
    def python(self) -> str:
        venv = self.code / ".venv" / "bin" / "python"
        return str(venv) if venv.exists() else sys.executable


@dataclass
class Run:
    side: str
    round: int
    started: str
    load_before: float
    load_after: float
    seconds: float
    returncode: int
    rows: dict[str, tuple[float, float]] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.side} r{self.round}"


def run_once(
    *, side: Side, benchmark: str, extra: list[str], round_number: int, scripts: Path, out: Path
) -> Run:
    script_name, default_args = BENCHMARKS[benchmark]
    env = {
        **os.environ,
        "DATABASE_URL": side.database_url,
        "SHOP_CODE_DIR": str(side.code),
        # each side's code caches its own shapes: never read the other side's entries
        "CACHE_KEY_PREFIX": f"bench-{side.name}",
        "PYTHONUNBUFFERED": "1",
    }
    command = [side.python, str(scripts / script_name), *default_args, *extra]
    load_before = os.getloadavg()[0]
    started = datetime.now(UTC).strftime("%H:%M:%S")
    clock = time.monotonic()
    done = subprocess.run(
        command, cwd=side.code, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - clock
    log = out / f"{benchmark}-{side.name}-r{round_number}.log"
    log.write_text(f"$ {' '.join(command)}\n{done.stdout}\n--- stderr\n{done.stderr}")
    run = Run(
        side=side.name,
        round=round_number,
        started=started,
        load_before=load_before,
        load_after=os.getloadavg()[0],
        seconds=seconds,
        returncode=done.returncode,
    )
    for line in done.stdout.splitlines():
        if match := ROW.match(line):
            run.rows[match[1]] = (float(match[3]), float(match[4]))
        elif FINDING.search(line):
            run.findings.append(line.strip())
    if done.returncode not in (0, 1):
        run.findings.append(f"exit status {done.returncode}, see {log}")
        run.findings.extend(done.stderr.strip().splitlines()[-3:])
    return run


def ratio(new: list[float], old: list[float]) -> str:
    if not new or not old or not statistics.median(old):
        return "-"
    return f"{statistics.median(new) / statistics.median(old):.2f}"


def table(benchmark: str, runs: list[Run]) -> None:
    print(f"\n== {BENCHMARKS[benchmark][0]}")
    for run in runs:
        print(
            f"  {run.title}: {run.started} UTC, {run.seconds:.0f}s, load {run.load_before:.1f} "
            f"-> {run.load_after:.1f}, exit {run.returncode}"
        )
    labels = list(dict.fromkeys(label for run in runs for label in run.rows))
    width = max([len(label) for label in labels] + [20])
    head = "".join(f"{run.title:>16}" for run in runs)
    print(f"\n  {'p50 / p95 ms':<{width}}{head}   p95 new/old  p50 new/old")
    for label in labels:
        cells = "".join(
            f"{run.rows[label][0]:>7.1f} /{run.rows[label][1]:>6.1f}"
            if label in run.rows
            else f"{'-':>16}"
            for run in runs
        )

        def values(side: str, index: int, label: str = label) -> list[float]:
            return [r.rows[label][index] for r in runs if r.side == side and label in r.rows]

        print(
            f"  {label:<{width}}{cells}   {ratio(values('new', 1), values('old', 1)):>11}"
            f"  {ratio(values('new', 0), values('old', 0)):>11}"
        )
    for side in ("old", "new"):
        findings = list(dict.fromkeys(f for run in runs if run.side == side for f in run.findings))
        if findings:
            print(f"\n  findings, {side}:")
            for finding in findings:
                print(f"    {finding}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", nargs=2, metavar=("CHECKOUT", "DATABASE_URL"), required=True)
    parser.add_argument("--new", nargs=2, metavar=("CHECKOUT", "DATABASE_URL"), required=True)
    parser.add_argument("--rounds", type=int, default=2, help="Runs per side (2).")
    parser.add_argument(
        "--benchmarks", default="search,storefront", help="search, storefront or both (default)."
    )
    parser.add_argument(
        "--search-args", default="", help="Extra arguments for search_latency.py, one string."
    )
    parser.add_argument(
        "--storefront-args", default="", help="Extra arguments for storefront_pages.py."
    )
    parser.add_argument(
        "--own-scripts",
        action="store_true",
        help="Run each checkout's own benchmark scripts (default: the ones next to this); "
        "storefront_pages.py before --seeded existed cannot read a seeded database.",
    )
    parser.add_argument("--out", type=Path, default=None, help="Where raw outputs go.")
    args = parser.parse_args()

    sides = {
        "old": Side("old", Path(args.old[0]).resolve(), args.old[1]),
        "new": Side("new", Path(args.new[0]).resolve(), args.new[1]),
    }
    out = args.out or Path(tempfile.mkdtemp(prefix=f"compare-{datetime.now(UTC):%Y%m%dT%H%M%S}-"))
    out.mkdir(parents=True, exist_ok=True)
    extras = {"search": args.search_args.split(), "storefront": args.storefront_args.split()}
    for side in sides.values():
        print(f"{side.name}: {side.code} ({git_head(side.code)}) on {side.database_url}")
    print(f"raw outputs: {out}")
    for benchmark in [b.strip() for b in args.benchmarks.split(",") if b.strip()]:
        runs = []
        for round_number in range(1, args.rounds + 1):
            order = ("old", "new") if round_number % 2 else ("new", "old")
            for name in order:
                side = sides[name]
                scripts = side.code / "benchmarks" if args.own_scripts else HERE
                runs.append(
                    run_once(
                        side=side,
                        benchmark=benchmark,
                        extra=extras[benchmark],
                        round_number=round_number,
                        scripts=scripts,
                        out=out,
                    )
                )
        table(benchmark, runs)


def git_head(code: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(code), "log", "-1", "--format=%h %cs"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "not a git checkout"


if __name__ == "__main__":
    main()
