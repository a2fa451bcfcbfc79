"""`python -m tests.probes`: run the hostile probes and print the defect table (docs/limits.md)."""

from __future__ import annotations

import argparse
import sys

from .families import FAMILIES
from .runner import iter_defects, run_families, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.probes", description=__doc__)
    parser.add_argument("-k", dest="text", default="", help="only probes whose family or name holds this text")
    parser.add_argument("--every", type=int, default=1, help="run every N-th probe of each family")
    parser.add_argument("-v", action="store_true", help="a line per probe")
    args = parser.parse_args(argv)

    def say(outcome: object) -> None:
        if args.v:
            print(f"{outcome.probe.family}/{outcome.probe.name}: {outcome.defects or 'ok'} "  # type: ignore[attr-defined]
                  f"exit {outcome.returncode} {outcome.seconds:.1f} s", flush=True)  # type: ignore[attr-defined]

    families = [f.filtered(args.text) for f in FAMILIES]
    outcomes = run_families(families, every=args.every, report=say)
    for line in iter_defects(outcomes):
        print(line)
    print(table(outcomes))
    return 1 if any(o.defects for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
