"""Fidelity benchmark: the China pack against the corpus's hand-made global/China pairs.

    python bench/fidelity.py [--pairs DIR] [--expectations FILE] [--rules china] [-v]

For every pair, each China-relevant value the authors changed is classified as
reproduced, warned at that place, or missed; each change the tool made that the authors
did not is listed with its judgement from the reviewed expectations file.  Prints one
table per pair and the totals.  See docs/fidelity.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, never an installed copy

from panther_cn_transform import load_rules
from panther_cn_transform.report.fidelity import PairExpectations, PairReport, load_expectations, run_pair

HERE = Path(__file__).resolve().parent
DEFAULT_PAIRS = HERE.parents[1] / "shared" / "corpus" / "pairs"
DEFAULT_EXPECTATIONS = HERE / "fidelity_expectations.yml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--expectations", type=Path, default=DEFAULT_EXPECTATIONS)
    parser.add_argument("--rules", default="china")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every change, not only misses")
    args = parser.parse_args()
    rules = load_rules(args.rules)
    expectations = load_expectations(args.expectations)
    reports = [
        run_pair(pair, rules, expectations.get(pair.name, PairExpectations()))
        for pair in sorted(p for p in args.pairs.iterdir() if p.is_dir())
    ]
    for report in reports:
        print_pair(report, args.verbose)
    print_totals(reports)


def print_pair(report: PairReport, verbose: bool) -> None:
    print(f"\n## {report.name}")
    print(f"relevant {report.relevant:4d}  reproduced {report.count('reproduced'):4d}  "
          f"warned {report.count('warned'):4d}  missed {report.count('missed'):4d}  "
          f"excluded {len(report.excluded):3d}  extras {len(report.extras):3d}")
    for pointer, outcome in report.outcomes.items():
        if verbose or outcome == "missed":
            change = report.changes[pointer]
            print(f"  {outcome:10s} {pointer}\n{'':14s}- {_short(change.before)}\n{'':14s}+ {_short(change.after)}")
    for edit in report.extras:
        judgement, reason = report.judged_extras.get(edit.pointer, ("UNJUDGED", ""))
        if verbose or judgement != "needed":
            print(f"  extra {judgement:8s} [{edit.rule}] {edit.pointer} {reason}")
            shown = edit.fragments or ((edit.old, edit.value),)
            for old, new in shown:
                print(f"{'':14s}- {_short(old)}\n{'':14s}+ {_short(new)}")
    for logical_id in report.removed_but_kept:
        print(f"  REMOVED BUT KEPT BY THE AUTHORS: {logical_id}")


def print_totals(reports: list[PairReport]) -> None:
    relevant = sum(r.relevant for r in reports)
    reproduced = sum(r.count("reproduced") for r in reports)
    warned = sum(r.count("warned") for r in reports)
    missed = sum(r.count("missed") for r in reports)
    extras = [(r, e) for r in reports for e in r.extras]
    wrong = sum(1 for r, e in extras if r.judged_extras.get(e.pointer, ("",))[0] == "wrong")
    unjudged = sum(1 for r, e in extras if e.pointer not in r.judged_extras)
    kept = sum(len(r.removed_but_kept) for r in reports)
    share = 100.0 * (reproduced + warned) / relevant if relevant else 100.0
    print(f"\n# Totals over {len(reports)} pairs")
    print(f"China-relevant author changes {relevant}: reproduced {reproduced}, warned {warned}, missed {missed} "
          f"-> {share:.1f}% reproduced or warned")
    print(f"tool changes the authors did not make: {len(extras)} (wrong {wrong}, unjudged {unjudged})")
    print(f"resources removed that the authors kept (type exists in the region): {kept}")


def _short(value: object, width: int = 160) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    main()
