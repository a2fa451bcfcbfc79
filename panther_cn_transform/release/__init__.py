"""Whole releases and the edges that talk to AWS: sources, targets, the out-dir, verification, `connect`.

Job: a release tree end to end (`pipeline`, in the order of its steps: `discovery` of the tree,
`scheduling` of the children-first transforms, `reachability` and what is left behind, the
`manifest` and the objects it lists), a project of templates (`project`), where objects come
from (`source`: a local mirror; `s3source`: a bucket through a cache) and go to (`outdir`,
`s3target`), the worker processes (`workers`), cfn-lint verification (`verify`), the `release`
command's run (`release_run`) and its progress display (`display`), the edge between the two
halves of a China deployment (`connect`), and their deployment through change sets (`deploy`,
with `changesets`, `stack_events`, `deploy_inputs` and `key_slots`).

May import: everything below it (`report`, `transform`, `ruleset`, `render`, `partitions`,
`model`, the leaves).  The only sub-package that creates boto3 clients or imports botocore's
client modules (the import contract in pyproject.toml).

Offers: `transform_release`, `ReleaseResult`, `check_manifest` (`manifest`), `transform_project` (`project`:
project mode), `S3Source`, `upload_release`, `connect`, `Deployment`.
"""
