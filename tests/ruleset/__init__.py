"""Tests of `panther_cn_transform.ruleset` (the sub-package of the same name)."""
