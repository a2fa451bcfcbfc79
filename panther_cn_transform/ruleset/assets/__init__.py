"""Files that rule packs ship into a release (zipped by `packaged.py`), such as the web proxy Lambda."""
