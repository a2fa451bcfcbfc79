"""Tests of `panther_cn_transform.release` (the sub-package of the same name)."""
