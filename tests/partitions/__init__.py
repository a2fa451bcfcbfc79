"""Tests of `panther_cn_transform.partitions` (the sub-package of the same name)."""
