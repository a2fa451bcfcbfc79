"""Tests of `panther_cn_transform.model` (the sub-package of the same name)."""
