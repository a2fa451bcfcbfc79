"""What a person reads: the report of a transform or release, its blockers, next steps, and generated docs.

Job: the JSON report (`json_report`), its markdown and text forms (`text_report`) and its
SARIF 2.1.0 log for code scanning (`sarif`), what blocks a deployment (`blockers`), the
root's parameters and next-step commands (`guide`), fidelity measured against hand ports
(`fidelity`), and docs/rules.md generated from the actions and packs (`rule_docs`).

May import: `transform`, `ruleset`, `partitions`, `model` and the top-level leaves.  Never
`release` or `cli`.

Offers: `build_report`, `format_report`, `find_blockers`, the fidelity measure.
"""
