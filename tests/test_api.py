"""The public API is what `panther_cn_transform/__init__.py` exports, and no more."""

import subprocess
import sys

import panther_cn_transform


def test_all_is_the_sorted_public_api() -> None:
    for name in panther_cn_transform.__all__:  # the names are imported on first use: resolve every one
        getattr(panther_cn_transform, name)
    public = sorted(name for name in vars(panther_cn_transform) if not name.startswith("_") and name[0].isalpha())
    modules = {name for name in public if type(getattr(panther_cn_transform, name)).__name__ == "module"}
    assert panther_cn_transform.__all__ == sorted(panther_cn_transform.__all__)
    assert set(panther_cn_transform.__all__) == set(public) - modules
    assert set(panther_cn_transform.__all__) <= set(dir(panther_cn_transform))


def test_a_submodule_of_the_same_name_does_not_replace_the_export() -> None:
    # In a new interpreter: the import system binds a submodule to the package when it first loads it.
    code = (
        "import inspect, sys, panther_cn_transform.transform\n"
        "module = sys.modules['panther_cn_transform.transform']\n"
        "from panther_cn_transform import transform\n"
        "assert inspect.isfunction(transform) and transform is module.transform, transform\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        panther_cn_transform.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


#: The names `from panther_cn_transform import ...` offered before the package was split into sub-packages (issue 29).
EXPORTED_BEFORE_THE_LAYOUT = ["Edit", "EditConflict", "Finding", "InputError", "Limits", "OutputError", "RegionError", "ReleaseError", "ReleaseResult", "RenderError", "Rule", "RuleFileError", "RuleSet", "Template", "TemplateError", "TransformError", "TransformResult", "Warning", "build_report", "builtin_packs", "check_manifest", "decode_bytes", "decode_text", "format_report", "load_rules", "read_template", "to_pointer", "transform", "transform_file", "transform_release", "transform_text"]


def test_every_name_offered_before_the_layout_is_still_offered() -> None:
    code = f"from panther_cn_transform import {', '.join(EXPORTED_BEFORE_THE_LAYOUT)}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert set(EXPORTED_BEFORE_THE_LAYOUT) <= set(panther_cn_transform.__all__)
