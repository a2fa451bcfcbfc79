"""Which packages the distribution holds; everything else is declared in pyproject.toml.

setuptools' package discovery finds every sub-package of `panther_cn_transform` (a new one
needs no listing here); the one package it cannot find is the rule packs, which live in the
repository's `rules/` folder and are installed as `panther_cn_transform.packs`
(`[tool.setuptools.package-dir]` in pyproject.toml maps the folder).  pyproject.toml alone
cannot combine discovery with that mapped package, hence this file.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["panther_cn_transform", "panther_cn_transform.*"]), "panther_cn_transform.packs"])
