"""Nothing referenced is dropped: release discovery follows every location through its intrinsics (issue 26).

Each release here is a root in a moto S3 source bucket (tests/s3server.py, server mode) that
names a nested template or an asset through one intrinsic shape; `release --upload` must put
the object in the manifest and in the China bucket.  A location that cannot be reduced to keys
of the release bucket stops the run at its file, line and property with nothing uploaded; a
nested template on another host is a blocker that stops the upload.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from panther_cn_transform import format_report

from ..s3server import S3Server
from .test_s3 import SOURCE, TARGET, cli

HOST = f"https://{SOURCE}.s3.us-west-1.amazonaws.com"
CHILD = b"Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
CODE = b"PK\x05\x06" + bytes(18)  # an empty zip
SNIPPET = b"TopicName: included\n"
FUNCTION = """\
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/r
      Code:
{code}
"""
STACK = "  {name}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n"
BUCKET_PARAMETER = f"Parameters:\n  Bucket:\n    Type: String\n    Default: {SOURCE}\n"

#: shape -> (root template, the objects it reaches besides itself)
SHAPES: dict[str, tuple[str, dict[str, bytes]]] = {
    "Fn::Join": (
        "Resources:\n" + STACK.format(name="Child", url=f'!Join ["", ["{HOST}/", "v1/child.yml"]]'),
        {"v1/child.yml": CHILD},
    ),
    "Sub of a parameter": (
        BUCKET_PARAMETER + "Resources:\n"
        + STACK.format(name="Child", url='!Sub "https://${Bucket}.s3.us-west-1.amazonaws.com/v1/child.yml"'),
        {"v1/child.yml": CHILD},
    ),
    "Sub with a variable map": (
        "Resources:\n" + STACK.format(name="Child", url=f'!Sub ["{HOST}/${{Folder}}/child.yml", {{Folder: v1}}]'),
        {"v1/child.yml": CHILD},
    ),
    "S3Bucket: Ref to a parameter's default": (
        BUCKET_PARAMETER + "Resources:\n" + FUNCTION.format(code="        S3Bucket: !Ref Bucket\n        S3Key: v1/code.zip"),
        {"v1/code.zip": CODE},
    ),
    "Fn::FindInMap": (
        "Mappings:\n  Templates:\n    Child:\n      Key: v1/child.yml\nResources:\n"
        + STACK.format(name="Child", url=f'!Sub ["{HOST}/${{Key}}", {{Key: !FindInMap [Templates, Child, Key]}}]'),
        {"v1/child.yml": CHILD},
    ),
    "S3Key: Fn::Join": (
        "Resources:\n" + FUNCTION.format(code=f'        S3Bucket: {SOURCE}\n        S3Key: !Join ["/", [v1, code.zip]]'),
        {"v1/code.zip": CODE},
    ),
    "Fn::If, both branches": (
        "Parameters:\n  Env:\n    Type: String\n    Default: prod\nConditions:\n  Prod: !Equals [!Ref Env, prod]\nResources:\n"
        + STACK.format(name="Child", url=f'!If [Prod, "{HOST}/v1/prod.yml", "{HOST}/v1/test.yml"]'),
        {"v1/prod.yml": CHILD, "v1/test.yml": CHILD.replace(b"Topic", b"Queue").replace(b"SNS::Queue", b"SQS::Queue")},
    ),
    "AWS::Include": (
        ("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      Fn::Transform:\n        Name: AWS::Include\n"
         f"        Parameters:\n          Location: s3://{SOURCE}/v1/snippet.yml\n"),
        {"v1/snippet.yml": SNIPPET},
    ),
}


def publish(s3: S3Server, root: str, objects: dict[str, bytes]) -> None:
    """The source bucket holding release v1 (its root and `objects`), and the empty China bucket."""
    source = s3.bucket(SOURCE, "us-west-1")
    source.put_object(Bucket=SOURCE, Key="v1/panther.yml", Body=root.encode())
    for key, data in objects.items():
        source.put_object(Bucket=SOURCE, Key=key, Body=data)
    s3.bucket(TARGET, "cn-north-1")


def upload(s3: S3Server, tmp_path: Path, *extra: str | Path) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    done = cli(s3, "release", f"s3://{SOURCE}", "--release", "v1", "--region", "cn-north-1", "--bucket", TARGET,
               "--upload", "--no-verify", "--out-dir", out, "--cache-dir", tmp_path / "cache", *extra)
    return done.returncode, done.stderr, out


@pytest.mark.parametrize("shape", SHAPES)
def test_an_object_reached_through_intrinsics_is_in_the_manifest_and_uploaded(s3: S3Server, tmp_path: Path, shape: str) -> None:
    root, objects = SHAPES[shape]
    publish(s3, root, objects)
    code, stderr, out = upload(s3, tmp_path)
    assert code == 0, stderr
    listed = json.loads((out / "manifest.json").read_text())["objects"]
    # by source key: a nested template whose reference is one literal URL per spelling (an If's branches) is published
    # under its content's SHA-256, one spelled through a Join, Sub or mapping under its source key (docs/release.md, "Keys")
    manifest = {o.get("source_key", o["key"]): o for o in listed}
    assert set(manifest) == {"v1/panther.yml", *objects}
    uploaded = s3.objects(TARGET, "cn-north-1")
    assert set(uploaded) == {o["key"] for o in listed}
    for key, data in objects.items():
        referrers = manifest[key]["referenced_by"]
        assert referrers and referrers[0]["template"] == "v1/panther.yml"
        if manifest[key]["kind"] == "asset":
            assert uploaded[manifest[key]["key"]] == data  # copied byte for byte
        else:  # a nested template: transformed, and its own root is what it was
            assert uploaded[manifest[key]["key"]].startswith(b"Resources:")
            if "source_key" in manifest[key]:  # under its content key: the root reads it there
                assert manifest[key]["key"].encode() in uploaded["v1/panther.yml"]
    assert SOURCE.encode() not in uploaded["v1/panther.yml"]  # the root reads every one of them from the China bucket



@pytest.mark.parametrize("shape", ["Fn::Join", "Sub of a parameter", "Sub with a variable map", "Fn::FindInMap"])
def test_a_child_whose_key_cannot_be_repointed_stays_under_its_source_key_with_a_warning(
    s3: S3Server, tmp_path: Path, shape: str,
) -> None:
    root, objects = SHAPES[shape]
    publish(s3, root, objects)
    report = tmp_path / "report.json"
    code, stderr, out = upload(s3, tmp_path, "--report", report)
    assert code == 0, stderr
    child = json.loads((out / "manifest.json").read_text())["objects"]
    assert {o["key"] for o in child} == {"v1/panther.yml", "v1/child.yml"}
    assert not any("source_key" in o for o in child)
    assert ("warning: v1/panther.yml:/Resources/Child/Properties/TemplateURL: nested template v1/child.yml is published "
            "under its source key") in stderr
    warnings = next(t for t in json.loads(report.read_text())["templates"] if t["source"] == "v1/panther.yml")["warnings"]
    assert [w["rule"] for w in warnings if "not protected against a re-publish" in w["message"]] == ["release-keys"]


def test_each_branch_of_an_if_is_published_under_its_own_content_key(s3: S3Server, tmp_path: Path) -> None:
    root, objects = SHAPES["Fn::If, both branches"]
    publish(s3, root, objects)
    code, stderr, out = upload(s3, tmp_path)
    assert code == 0, stderr
    listed = json.loads((out / "manifest.json").read_text())["objects"]
    published = {o["source_key"]: o["key"] for o in listed if "source_key" in o}
    assert set(published) == {"v1/prod.yml", "v1/test.yml"} and len(set(published.values())) == 2
    root_text = s3.objects(TARGET, "cn-north-1")["v1/panther.yml"].decode()
    assert all(key in root_text for key in published.values()) and "v1/prod.yml" not in root_text
    assert "published under its source key" not in stderr


@pytest.mark.parametrize("root", [
    "Parameters:\n  Url:\n    Type: String\n    Default: " + HOST + "/v1/child.yml\nResources:\n"
    + STACK.format(name="Child", url="!Ref Url"),
    "Mappings:\n  T:\n    C:\n      U: " + HOST + "/v1/child.yml\nResources:\n"
    + STACK.format(name="Child", url="!FindInMap [T, C, U]"),
], ids=["parameter default", "mapping entry"])
def test_a_whole_url_in_a_parameter_default_or_mapping_entry_is_pointed_at_the_content_key(
    s3: S3Server, tmp_path: Path, root: str,
) -> None:
    publish(s3, root, {"v1/child.yml": CHILD})
    code, stderr, out = upload(s3, tmp_path)
    assert code == 0, stderr
    listed = json.loads((out / "manifest.json").read_text())["objects"]
    (child,) = [o for o in listed if o.get("source_key") == "v1/child.yml"]
    assert child["key"].encode() in s3.objects(TARGET, "cn-north-1")["v1/panther.yml"]
    assert "published under its source key" not in stderr


def test_a_child_one_reference_cannot_repoint_stays_under_its_source_key_for_every_reference(s3: S3Server, tmp_path: Path) -> None:
    root = ("Resources:\n" + STACK.format(name="Literal", url=f"{HOST}/v1/child.yml")
            + STACK.format(name="Joined", url=f'!Join ["", ["{HOST}/", "v1/child.yml"]]'))
    publish(s3, root, {"v1/child.yml": CHILD})
    code, stderr, out = upload(s3, tmp_path)
    assert code == 0, stderr
    assert {o["key"] for o in json.loads((out / "manifest.json").read_text())["objects"]} == {"v1/panther.yml", "v1/child.yml"}
    published = s3.objects(TARGET, "cn-north-1")["v1/panther.yml"].decode()
    assert "amazonaws.com.cn/v1/child.yml" in published  # the literal reference names the source key too
    for stack in ("Literal", "Joined"):
        assert (f"warning: v1/panther.yml:/Resources/{stack}/Properties/TemplateURL: nested template v1/child.yml is "
                "published under its source key") in stderr

def test_an_included_snippet_is_copied_unported_with_a_warning(s3: S3Server, tmp_path: Path) -> None:
    root, objects = SHAPES["AWS::Include"]
    publish(s3, root, objects)
    code, stderr, _ = upload(s3, tmp_path)
    assert code == 0, stderr
    assert ("warning: v1/panther.yml:/Resources/Topic/Properties/Fn::Transform/Parameters/Location: the AWS::Include snippet "
            "v1/snippet.yml is copied as it is") in stderr
    assert s3.objects(TARGET, "cn-north-1")["v1/snippet.yml"] == SNIPPET


def test_both_templates_an_if_may_nest_are_transformed_before_their_parent(s3: S3Server, tmp_path: Path) -> None:
    root, objects = SHAPES["Fn::If, both branches"]
    publish(s3, root, objects)
    report = tmp_path / "report.json"
    code, stderr, _ = upload(s3, tmp_path, "--report", report)
    assert code == 0, stderr
    places = {entry["source"]: entry["place"] for entry in json.loads(report.read_text())["templates"]}
    assert places == {"v1/panther.yml": "root", "v1/prod.yml": "Child", "v1/test.yml": "Child"}


#: shape -> (root template, the place the run stops at: line:column, property)
UNRESOLVED = {
    "a parameter without a default": (
        "Parameters:\n  Folder:\n    Type: String\nResources:\n"
        + STACK.format(name="Child", url=f'!Sub "{HOST}/${{Folder}}/child.yml"'),
        "v1/panther.yml:8:7: /Resources/Child/Properties/TemplateURL:", "its key '${Folder}/child.yml' is not known",
    ),
    "Fn::GetAtt": (
        "Resources:\n  Maker:\n    Type: AWS::SNS::Topic\n"
        + STACK.format(name="Child", url=f'!Join ["", ["{HOST}/", !GetAtt Maker.TopicName]]'),
        "v1/panther.yml:7:7: /Resources/Child/Properties/TemplateURL:", "is not known before deployment",
    ),
    "Fn::ImportValue": (
        "Resources:\n" + FUNCTION.format(code=f'        S3Bucket: {SOURCE}\n        S3Key: !ImportValue CodeKey'),
        "v1/panther.yml:9:9: /Resources/Fn/Properties/Code/S3Bucket:", "is not known before deployment",
    ),
}


@pytest.mark.parametrize("shape", UNRESOLVED)
def test_a_location_that_cannot_be_resolved_stops_the_run_at_its_place(s3: S3Server, tmp_path: Path, shape: str) -> None:
    root, place, why = UNRESOLVED[shape]
    publish(s3, root, {"v1/child.yml": CHILD})
    code, stderr, out = upload(s3, tmp_path)
    lines = stderr.splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith(f"error: {place} the location ") and why in lines[0], lines[0]
    assert "cannot be followed to objects of the release bucket" in lines[0]
    assert s3.objects(TARGET, "cn-north-1") == {} and not out.exists()  # nothing uploaded, nothing written


#: what reads an object from outside the release bucket -> (root template, blocker kind, its place, what it names)
FOREIGN = {
    "a template on another host": (
        "Resources:\n" + STACK.format(name="Child", url="https://templates.example.com/v1/child.yml"),
        "foreign-template", "/Resources/Child/Properties/TemplateURL", "https://templates.example.com/v1/child.yml",
    ),
    "a template in another China bucket": (
        "Resources:\n" + STACK.format(name="Child", url="https://other-cn-bucket.s3.cn-north-1.amazonaws.com.cn/v1/child.yml"),
        "foreign-template", "/Resources/Child/Properties/TemplateURL", "other-cn-bucket",
    ),
    "an asset whose bucket a parameter's default sets": (
        "Parameters:\n  Bucket:\n    Type: String\n    Default: other-cn-bucket\nResources:\n"
        + FUNCTION.format(code="        S3Bucket: !Ref Bucket\n        S3Key: v1/code.zip"),
        "foreign-asset", "/Resources/Fn/Properties/Code/S3Bucket", "s3://other-cn-bucket/v1/code.zip",
    ),
}


@pytest.mark.parametrize("shape", FOREIGN)
def test_an_object_outside_the_release_bucket_is_a_blocker_that_stops_the_upload(s3: S3Server, tmp_path: Path, shape: str) -> None:
    root, kind, path, named = FOREIGN[shape]
    publish(s3, root, {})
    report = tmp_path / "report.json"
    code, stderr, out = upload(s3, tmp_path, "--report", report)
    assert code == 2 and f"1 blocker(s) the global release does not have ({kind} in root)" in stderr, stderr
    assert s3.objects(TARGET, "cn-north-1") == {} and not out.exists()
    whole = json.loads(report.read_text())
    blockers = whole["blockers"]
    assert [(b["kind"], b["path"], b["shared"]) for b in blockers] == [(kind, path, False)]
    assert named in blockers[0]["message"]
    text = format_report(whole, "markdown")  # the report a person reads lists it under its own heading
    title = "Nested templates" if kind == "foreign-template" else "Assets"
    assert f"{title} read from outside the release bucket" in text and blockers[0]["message"] in text


def test_a_republish_that_would_replace_a_child_under_its_source_key_is_refused_before_anything_is_sent(
    s3: S3Server, tmp_path: Path,
) -> None:
    """Such a child keeps its key, so other bytes there would reach the live root before the new root is written."""
    root, objects = SHAPES["Fn::Join"]
    publish(s3, root, objects)
    code, stderr, _ = upload(s3, tmp_path)
    assert code == 0, stderr
    live = s3.objects(TARGET, "cn-north-1")
    # the vendor publishes v1 again with another child (a re-publish with other rules is the same case)
    s3.client("us-west-1").put_object(Bucket=SOURCE, Key="v1/child.yml", Body=CHILD + b"  Other:\n    Type: AWS::SNS::Topic\n")
    s3.log.lines.clear()
    code, stderr, out = upload(s3, tmp_path, "--force")
    assert code == 2 and "Traceback" not in stderr, stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: s3://{TARGET}/v1/child.yml: s3://{TARGET}/v1/child.yml holds bytes that are not this run's"), line
    assert "its TemplateURL, read by v1/panther.yml at /Resources/Child/Properties/TemplateURL, cannot name one" in line, line
    assert "nothing was uploaded" in line and "--replace-live-children" in line and "the live root is unchanged" in line, line
    assert s3.requests("PUT", TARGET) == [] and s3.objects(TARGET, "cn-north-1") == live

    code, stderr, out = upload(s3, tmp_path, "--force", "--replace-live-children")
    assert code == 0, stderr
    assert s3.objects(TARGET, "cn-north-1")["v1/child.yml"] == (out / "v1" / "child.yml").read_bytes() != live["v1/child.yml"]
    assert s3.requests("PUT", TARGET) == ["v1/child.yml"]  # the root's own bytes did not change: only the child went up
