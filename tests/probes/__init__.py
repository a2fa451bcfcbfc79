"""The hostile probe suite of issue 26: a few hundred hostile runs of the command line, judged by one runner.

    python -m tests.probes            # every probe, a table of defects (the figure in docs/limits.md)
    python -m tests.probes -k mirror  # the probes whose family or name holds the text

tests/test_probes.py runs every twentieth probe of each family in the default suite, and all of
them under `HYPOTHESIS_PROFILE=long` (the long profile of the other hostile tests).
"""
