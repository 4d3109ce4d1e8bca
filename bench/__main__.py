"""`python -m bench [--quick] [--only NAME]... [--output FILE] [--strict]`: run the registered benchmarks, print one
table, write `bench/results.json`.

`--quick` uses tiny sizes and one repetition: it proves each benchmark runs, it does not judge targets. Exit 1 when
a benchmark broke (or, with `--strict`, missed its target); 0 otherwise. Runs child processes in a temp directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import registered_benchmarks
from bench.harness import Config, Result, Verdict, error_rows, format_table, write_results

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition: check that each runs")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this benchmark (its name or one of its rows); repeatable")
    parser.add_argument("--repeat", type=int, default=None, help="measured repetitions (default: 5, quick: 1)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    benchmarks = registered_benchmarks()
    if args.only:
        wanted = set(args.only)
        benchmarks = [b for b in benchmarks if b.name in wanted or wanted & set(b.rows)]
        if not benchmarks:
            known = ", ".join(b.name for b in registered_benchmarks())
            parser.error(f"no benchmark named {', '.join(args.only)} (known: {known})")
    repeat = args.repeat or (1 if args.quick else 5)
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="vqr-bench-") as scratch:
        for benchmark in benchmarks:
            workdir = Path(scratch) / benchmark.name
            workdir.mkdir()
            config = Config(quick=args.quick, repeat=repeat, warmup=0 if args.quick else 1, workdir=workdir,
                            root=ROOT)
            print(f"running {benchmark.name}...", file=sys.stderr, flush=True)
            try:
                rows = benchmark.run(config)
            except Exception as exc:  # a broken benchmark is a row in the table, not the end of the run
                traceback.print_exc(file=sys.stderr)
                rows = error_rows(benchmark, f"{type(exc).__name__}: {exc}")
            results += rows
    seconds = time.perf_counter() - started
    sys.stdout.write(format_table(results))
    sys.stdout.write(f"({len(results)} results in {seconds:.1f} s; figures are medians (min-max) of the n runs "
                     f"or pairs shown; written to {args.output})\n")
    write_results(args.output, results, quick=args.quick, seconds=seconds)
    broken = any(r.verdict is Verdict.ERROR for r in results)
    missed = any(r.verdict is Verdict.FAIL for r in results)
    return 1 if broken or (args.strict and missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
