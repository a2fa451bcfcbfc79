"""Rules: the rule files and packs, the actions that apply them, and what they report.

Job: load and validate rule files (`rule_files`: `load_rules`, `RuleSet`, the shipped packs;
`rule_schema`; `patterns`), define the engine/action contract (`rule_api`), the actions
themselves (`actions/`), the removal planner (`removal`), asset flows (`asset_flow`), the
findings rules return (`findings`), the nested-stack warning (`nested`) and the files a pack
ships into a release (`packaged`, `assets/`).

May import: `partitions`, `model` and the top-level leaves.  Never `render`, `transform`,
`report`, `release` or `cli`.

Offers: `load_rules`, `RuleSet`, `Rule`, `builtin_packs`, `ACTIONS`, `Finding`.
"""
