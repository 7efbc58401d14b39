"""CLI: ``python -m pipelines.demo --out DIR [--seed N] [--small]`` writes SYNTHETIC Demostad data."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.demo.generator import DEFAULT_SEED, DemoConfig, generate_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="output folder (extracts/ and ground_truth/ are written in it)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--small", action="store_true", help="small municipality (3 wijken, 12 buurten, 2019-2024)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = generate_demo(args.out, seed=args.seed, config=DemoConfig.small() if args.small else None)
    print(f"SYNTHETIC demo municipality {result.config.gemeente_name} ({result.config.gemeente_code}), seed {args.seed}")
    for path, rows in result.rows_per_file.items():
        print(f"  {rows:6d} rows  {path}")
    for path in result.ground_truth_files:
        print(f"  ground truth  {path}")
    print(f"{len(result.rows_per_file)} extract files, {sum(result.rows_per_file.values())} rows in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
