"""Tests of `panther_cn_transform.render` (the sub-package of the same name)."""
