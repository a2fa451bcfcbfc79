"""`python -m panther_cn_transform`: the same command as `panther-cn-transform`."""

import sys

from .cli import main

sys.exit(main())
