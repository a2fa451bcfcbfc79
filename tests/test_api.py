"""The public API is what `panther_cn_transform/__init__.py` exports, and no more."""

import panther_cn_transform


def test_all_is_the_sorted_public_api() -> None:
    public = sorted(name for name in vars(panther_cn_transform) if not name.startswith("_") and name[0].isalpha())
    modules = {name for name in public if type(getattr(panther_cn_transform, name)).__name__ == "module"}
    assert panther_cn_transform.__all__ == sorted(panther_cn_transform.__all__)
    assert set(panther_cn_transform.__all__) == set(public) - modules
