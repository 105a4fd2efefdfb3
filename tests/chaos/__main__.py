"""`python -m tests.chaos`: the full-size chaos run behind scripts/chaos (tests/chaos/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from tests.chaos.config import DEFAULT_POSTGRES, ChaosConfig, FaultCounts, random_seed, sqlite_url
from tests.chaos.report import Summary
from tests.chaos.run import run_chaos


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/chaos", description=__doc__)
    parser.add_argument("--tasks", type=int, default=200, help="tasks to submit (default 200)")
    parser.add_argument("--submitters", type=int, default=6, help="concurrent clients (default 6)")
    parser.add_argument("--seed", type=int, default=None, help="RNG seed (default: random)")
    parser.add_argument(
        "--database",
        default=DEFAULT_POSTGRES,
        help=f"a PostgreSQL database the run wipes, or 'sqlite' (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--api-kills", type=int, help="SIGKILLs of the API (default 3)")
    parser.add_argument("--emulator-kills", type=int, help="emulator SIGKILLs (default tasks/40)")
    parser.add_argument("--ws-drops", type=int, help="websocket drops (default tasks/20)")
    parser.add_argument("--submit-interval", type=float, default=0.5, help="seconds per submission")
    parser.add_argument(
        "--settle-seconds", type=float, default=120.0, help="wait to settle, at most"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where logs and files go (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir even if all is well")
    return parser


def config_from(args: argparse.Namespace, workdir: Path) -> ChaosConfig:
    defaults = FaultCounts.for_tasks(args.tasks)
    counts = FaultCounts(
        api_kills=defaults.api_kills if args.api_kills is None else args.api_kills,
        emulator_kills=defaults.emulator_kills
        if args.emulator_kills is None
        else args.emulator_kills,
        ws_drops=defaults.ws_drops if args.ws_drops is None else args.ws_drops,
    )
    database = sqlite_url(workdir) if args.database == "sqlite" else args.database
    return ChaosConfig(
        workdir=workdir,
        tasks=args.tasks,
        seed=random_seed() if args.seed is None else args.seed,
        database_url=database,
        faults=counts,
        submitters=args.submitters,
        submit_interval=args.submit_interval,
        settle_seconds=args.settle_seconds,
    )


async def until_terminated(config: ChaosConfig) -> Summary:
    """The run, stopped cleanly (children killed) by SIGTERM as well as by Ctrl-C."""
    current = asyncio.current_task()
    assert current is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)
    return await run_chaos(config)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kontext-chaos-"))
    config = config_from(args, workdir)
    print(f"chaos: seed={config.seed} tasks={config.tasks} workdir={workdir}", file=sys.stderr)
    try:
        summary = asyncio.run(until_terminated(config))
    except asyncio.CancelledError:
        print(f"chaos: stopped by SIGTERM; files kept in {workdir}", file=sys.stderr)
        return 143
    for note in summary.notes:
        print(f"  note: {note}", file=sys.stderr)
    for detail in summary.details:
        print(f"  PROBLEM: {detail}", file=sys.stderr)
    print(summary.line(), flush=True)
    if summary.passed and not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    elif not summary.passed:
        print(f"chaos: logs and files kept in {workdir}", file=sys.stderr)
    return 0 if summary.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
