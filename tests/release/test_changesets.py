"""How a change set is shown: CloudFormation's answer per resource, replacements first, expected ones said so."""

from __future__ import annotations

from panther_cn_transform.release.changesets import ChangeSet, ResourceChange, change_set_name


def test_a_change_set_is_shown_replacements_first_with_their_reason() -> None:
    change_set = ChangeSet("panther", "cn-north-1 stack panther", "UPDATE", "arn:cs", "arn:stack", [
        ResourceChange("Add", "BridgeStage", "AWS::ApiGateway::Stage"),
        ResourceChange("Modify", "Core", "AWS::CloudFormation::Stack", "False", properties=("Parameters",)),
        ResourceChange("Modify", "SourceApiFunction", "AWS::Lambda::Function", "Conditional", path="Core"),
        ResourceChange("Remove", "OldTopic", "AWS::SNS::Topic"),
        ResourceChange("Modify", "BridgeApiKeyB", "AWS::ApiGateway::ApiKey", "True", properties=("Name",)),
    ])
    assert change_set.counts() == "1 to add, 1 to modify, 2 to replace, 1 to remove"
    assert change_set.lines({"BridgeApiKeyB": "expected: slot b's new key"}) == [
        "  replace     BridgeApiKeyB           AWS::ApiGateway::ApiKey  (expected: slot b's new key)",
        "  may replace Core/SourceApiFunction  AWS::Lambda::Function  (CloudFormation decides while it runs: it depends on a value known only then)",
        "  remove      OldTopic                AWS::SNS::Topic",
        "  add         BridgeStage             AWS::ApiGateway::Stage",
        "  modify      Core                    AWS::CloudFormation::Stack  (Parameters)",
    ]


def test_change_set_names_are_valid_for_cloudformation() -> None:
    from datetime import UTC, datetime

    name = change_set_name(datetime(2026, 11, 27, 10, 15, 0, tzinfo=UTC))
    assert name == "panther-cn-transform-20261127-101500"
    assert name[0].isalpha() and all(c.isalnum() or c == "-" for c in name)
