"""CLI: ``python -m pipelines.demo --out DIR [--seed N] [--small | --national]`` writes SYNTHETIC demo data."""

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
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true", help="small municipality (3 wijken, 12 buurten, 2019-2024)")
    size.add_argument("--national", action="store_true",
                      help="national scale: 350 synthetic gemeenten GM9001-GM9350, 3,290 wijken, ~14,000 buurten, 2015-2024")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    config = DemoConfig.small() if args.small else DemoConfig.national() if args.national else None
    result = generate_demo(args.out, seed=args.seed, config=config)
    cfg = result.config
    if cfg.n_gemeenten == 1:
        print(f"SYNTHETIC demo municipality {cfg.gemeente_name} ({cfg.gemeente_code}), seed {args.seed}")
    else:
        codes = cfg.gemeente_codes
        print(f"SYNTHETIC demo: {cfg.n_gemeenten} gemeenten {codes[0]}-{codes[-1]} ({cfg.gemeente_label(0)} ...), seed {args.seed}")
    shown = list(result.rows_per_file.items())
    for path, rows in shown if len(shown) <= 40 else shown[:20]:
        print(f"  {rows:6d} rows  {path}")
    if len(shown) > 40:
        print(f"  ... and {len(shown) - 20} more files")
    for path in result.ground_truth_files:
        print(f"  ground truth  {path}")
    print(f"{len(result.rows_per_file)} extract files, {sum(result.rows_per_file.values())} rows in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
