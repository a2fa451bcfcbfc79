"""The template as data: decoding, the long-form model, paths, walks, and the edits made to it.

Job: turn text into a `Template` (the libyaml node tree and the long-form model), name places
(`paths`) and find them in the text (`positions`: line and column), walk and index the model
(`walk`, `model_index`, `graph`, `flow`, `property_paths`, `sam`), and record changes (`edits`: the copy-on-write `EditLog` and the
RFC 6902 patch).  Nothing here knows AWS partitions or rules.

May import: the leaves at the package's top (`errors`, `limits`, `files`, `_gc`) and the
standard library, PyYAML and jsonpatch.  Never `partitions`, `ruleset`, `render` or above
(the import contract in pyproject.toml, checked by tests/test_layers.py).

Offers: `decode.read_template`/`decode_text`/`decode_bytes`, `Template`, `Edit`, `EditLog`,
`JsonPath` and `to_pointer`, the walks and the reference graph.
"""
