"""The shipped rule packs and partition facts (data only), installed as `panther_cn_transform.packs`.

A regular package, not a namespace one: on Python 3.11 `importlib.resources` gives a namespace
package a `MultiplexedPath`, whose `joinpath` takes one name and raised TypeError on the packs'
`joinpath("partitions", name)`, so every transform from a wheel failed.
"""
