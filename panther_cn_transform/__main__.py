"""`python -m panther_cn_transform`: the same command as `panther-cn-transform`."""

from .cli import main_exit

main_exit()
