"""Tests of `panther_cn_transform.report` (the sub-package of the same name)."""
