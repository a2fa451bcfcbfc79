"""Issue 27, classes 1 and 7: hosts evaluated for the target wherever and however they are built.

* A host written with `${AWS::URLSuffix}` is evaluated for the target partition:
  `s3.${AWS::URLSuffix}` is `s3.amazonaws.com.cn` in China, which botocore's data does not
  list (China's S3 endpoints are regional), so it becomes `s3.${AWS::Region}.${AWS::URLSuffix}`;
  one the target lacks is reported at its place; one the data does not know is left alone.
* A host label may hold several references (`web-${AWS::Region}-${AWS::AccountId}`): a
  CloudFront origin built by a Join with references between its parts is moved like the
  same Join anywhere else.
* A host inside a pattern (sed, grep, awk, a regular expression) follows what the value it
  is matched against holds in the target (`GetAtt Bucket.DomainName` has no region in China),
  and is reported where no data says which; it is never rewritten as an endpoint.

Each test fails on the main branch before this change.
"""

from __future__ import annotations

from typing import Any

import pytest

from panther_cn_transform import load_rules, read_template, transform, transform_text

from ..corpus import CORPUS

CHINA = load_rules("china")
REGIONS = ["cn-north-1", "cn-northwest-1"]


def port(text: str, region: str = "cn-north-1") -> Any:
    result = transform_text(text, CHINA, region=region)
    again = transform_text(result.text, CHINA, region=region)  # a second run changes nothing and warns nothing new
    assert again.text == result.text and again.edits == ()
    assert {(w.pointer, w.message) for w in again.warnings} <= {(w.pointer, w.message) for w in result.warnings}
    return result


def stacks(*urls: str) -> str:
    body = "".join(f"  S{n}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: !Sub {url}\n"
                   for n, url in enumerate(urls))
    return "Parameters:\n  Bucket: {Type: String}\nResources:\n" + body


def urls(result: Any) -> list[Any]:
    return [r["Properties"]["TemplateURL"]["Fn::Sub"] for r in result.model["Resources"].values()]


# -- class 1: neutral values evaluated for the target ----------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_six_neutral_global_s3_template_urls_become_regional(region: str) -> None:
    written = [f"https://s3.${{AWS::URLSuffix}}/${{Bucket}}/templates/t{n}.yaml" for n in range(6)]
    result = port(stacks(*written), region)
    assert urls(result) == [u.replace("s3.${AWS::URLSuffix}", "s3.${AWS::Region}.${AWS::URLSuffix}") for u in written]
    assert all("${AWS::URLSuffix} makes it s3.amazonaws.com.cn" in e.reason for e in result.edits)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # the bucket's virtual-hosted name: China lists only the regional form (partition file)
        ("https://${Bucket}.s3.${AWS::URLSuffix}/key", "https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}/key"),
        # what the target has stays as it is written
        ("https://s3.${AWS::Region}.${AWS::URLSuffix}/${Bucket}/key", "https://s3.${AWS::Region}.${AWS::URLSuffix}/${Bucket}/key"),
        ("https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}/key", "https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}/key"),
        ("https://sqs.${AWS::Region}.${AWS::URLSuffix}/1/q", "https://sqs.${AWS::Region}.${AWS::URLSuffix}/1/q"),
        # a region another parameter chooses is the author's choice (Quick Start's S3Region)
        ("https://${Bucket}.s3.${S3Region}.${AWS::URLSuffix}/key", "https://${Bucket}.s3.${S3Region}.${AWS::URLSuffix}/key"),
        # a host no data knows: left as written, silently, as before
        ("https://${Bucket}.example.${AWS::URLSuffix}/key", "https://${Bucket}.example.${AWS::URLSuffix}/key"),
    ],
)
def test_neutral_hosts_by_what_the_target_has(written: str, expected: str) -> None:
    result = port(stacks(written).replace("Bucket: {Type: String}", "Bucket: {Type: String}\n  S3Region: {Type: String}"))
    assert urls(result) == [expected]
    assert [w for w in result.warnings if w.rule == "endpoints"] == []


@pytest.mark.parametrize("written", ["https://sqs.us-east-1.${AWS::URLSuffix}/1/q", "https://shield.${AWS::Region}.${AWS::URLSuffix}/"])
def test_a_neutral_host_the_target_lacks_is_reported_at_its_place(written: str) -> None:
    text = f"Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Environment:\n        Variables:\n          URL: !Sub {written}\n"
    result = port(text)
    assert result.model["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]["URL"] == {"Fn::Sub": written}
    found = [w for w in result.warnings if w.rule == "endpoints"]
    assert [w.pointer for w in found] == ["/Resources/Fn/Properties/Environment/Variables/URL/Fn::Sub"]
    assert "${AWS::URLSuffix} makes it" in found[0].message


def test_neutral_text_outside_a_sub_and_principals_are_left_alone() -> None:
    text = (
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n"
        "        Statement:\n          - {Effect: Allow, Action: 'sts:AssumeRole', Principal: {Service: !Sub 'ec2.${AWS::URLSuffix}'}}\n"
        "  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Join ['', [!Ref Role, '.s3.${AWS::URLSuffix}']]\n"
    )
    assert port(text).edits == ()


def test_corpus_quick_start_template_urls_with_the_global_s3_host() -> None:
    """VPCFlowLogs-main's nested stacks, with their bucket host written in the global form."""
    path = CORPUS / "public" / "aws-cloudformation-templates" / "Solutions" / "VPCFlowLogs" / "templates" / "VPCFlowLogs-main.cfn.yaml"
    original = read_template(path)
    untouched = transform(original, CHINA, region="cn-north-1")
    assert not [e for e in untouched.edits if e.rule == "endpoints"]  # ${TemplatesS3BucketRegion}: kept
    text = original.text.replace(".s3.${TemplatesS3BucketRegion}.${AWS::URLSuffix}", ".s3.${AWS::URLSuffix}")
    result = port(text)
    changed = [e for e in result.edits if e.rule == "endpoints"]
    assert len(changed) == 2
    assert all("https://${TemplatesS3BucketName}.s3.${AWS::Region}.${AWS::URLSuffix}/templates/" in e.value for e in changed)


# -- class 7: hosts wherever they are built --------------------------------------------------------

ORIGIN = (
    "Resources:\n  Dist:\n    Type: AWS::CloudFront::Distribution\n    Properties:\n      DistributionConfig:\n"
    "        Enabled: true\n        Aliases: [www.example.cn]\n        Origins:\n          - Id: web\n"
    '            DomainName: !Join ["", ["web-", Ref: "AWS::Region", "-", Ref: "AWS::AccountId", ".s3.", Ref: "AWS::Region", ".amazonaws.com"]]\n'
    "            S3OriginConfig: {}\n"
)


@pytest.mark.parametrize("region", REGIONS)
def test_a_cloudfront_origin_joined_around_references_is_moved(region: str) -> None:
    result = port(ORIGIN, region)
    parts = result.model["Resources"]["Dist"]["Properties"]["DistributionConfig"]["Origins"][0]["DomainName"]["Fn::Join"][1]
    assert parts[-1] == ".amazonaws.com.cn" and parts[:-1] == ["web-", {"Ref": "AWS::Region"}, "-", {"Ref": "AWS::AccountId"}, ".s3.", {"Ref": "AWS::Region"}]
    assert result.text == ORIGIN.replace('".amazonaws.com"]]', '".amazonaws.com.cn"]]')


def test_corpus_cloudfront_origin_joined_around_references() -> None:
    """The serverless-patterns distribution, its S3 origin built as the issue's origin is."""
    path = CORPUS / "public" / "aws-samples__serverless-patterns" / "cloudfront-apigw-rest-api-lambda-dynamodb-sam" / "template.yaml"
    text = read_template(path).text.replace(
        'DomainName: !Join [ "", [ !Ref S3Bucket, ".s3.${AWS::URLSuffix}" ] ]',
        'DomainName: !Join [ "", [ "web-", !Ref "AWS::Region", "-", !Ref "AWS::AccountId", ".s3.", !Ref "AWS::Region", ".amazonaws.com" ] ]',
    )
    assert '"web-"' in text
    result = port(text)
    origin = result.model["Resources"]["CloudFront"]["Properties"]["DistributionConfig"]["Origins"][0]
    assert origin["DomainName"]["Fn::Join"][1][-1] == ".amazonaws.com.cn"


def userdata(script: str) -> str:
    lines = "".join(f"          {line}\n" for line in script.splitlines())
    return (
        "Resources:\n  Site:\n    Type: AWS::S3::Bucket\n  Box:\n    Type: AWS::EC2::Instance\n    Properties:\n"
        f"      UserData:\n        Fn::Base64: !Sub |\n{lines}"
    )


def script_of(result: Any) -> str:
    return str(result.model["Resources"]["Box"]["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"])


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # the case: DomainName is <bucket>.s3.amazonaws.com.cn in China, with no region
        ('NAME=$(echo ${Site.DomainName} | sed -e "s/.s3.amazonaws.com//")',
         'NAME=$(echo ${Site.DomainName} | sed -e "s/.s3.amazonaws.com.cn//")'),
        # the attribute read into a variable on another line
        ('HOST=${Site.DomainName}\nNAME=$(echo $HOST | sed "s|.s3.amazonaws.com||")',
         'HOST=${Site.DomainName}\nNAME=$(echo $HOST | sed "s|.s3.amazonaws.com.cn||")'),
        # RegionalDomainName keeps its region
        ('NAME=$(echo ${Site.RegionalDomainName} | sed "s/.s3.${AWS::Region}.amazonaws.com//")',
         'NAME=$(echo ${Site.RegionalDomainName} | sed "s/.s3.${AWS::Region}.amazonaws.com.cn//")'),
        # the replacement half of a sed expression is text written out: an endpoint, moved as one
        ('sed -i "s|ENDPOINT|https://sqs.${AWS::Region}.amazonaws.com|" /etc/app.conf',
         'sed -i "s|ENDPOINT|https://sqs.${AWS::Region}.amazonaws.com.cn|" /etc/app.conf'),
    ],
)
def test_a_host_in_a_pattern_follows_the_attribute_it_is_matched_against(script: str, expected: str) -> None:
    result = port(userdata(script))
    assert script_of(result) == expected + "\n"
    assert [w for w in result.warnings if w.rule == "endpoints"] == []


@pytest.mark.parametrize(
    "script",
    [
        'curl -s "$URL" | grep -q "https://s3.amazonaws.com/"',
        "aws s3api list-buckets | awk '/s3.amazonaws.com\\// {print}'",
        'echo "$HOST" | sed -e "s/.s3.amazonaws.com//"',
        "sed -i '/s3.amazonaws.com:443/d' /etc/proxy.conf",  # a sed address is a pattern too
    ],
)
def test_a_host_in_a_pattern_with_no_known_subject_is_reported_not_rewritten(script: str) -> None:
    result = port(userdata(script))
    assert script_of(result) == script + "\n"
    found = [w for w in result.warnings if w.rule == "endpoints"]
    assert len(found) == 1 and "pattern, not an endpoint" in found[0].message


def test_a_regular_expression_in_inline_code_is_a_pattern() -> None:
    code = 'import re\ndef handler(event, context):\n    return re.sub(r".s3.amazonaws.com/", "", event["url"])\n'
    text = ("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n      Handler: index.handler\n"
            "      Code:\n        ZipFile: |\n" + "".join(f"          {line}\n" for line in code.splitlines()))
    result = port(text)
    assert result.model["Resources"]["Fn"]["Properties"]["Code"]["ZipFile"] == code
    assert any(w.rule == "endpoints" and "regular expression pattern" in w.message for w in result.warnings)


@pytest.mark.parametrize(
    ("join", "should_be"),
    [
        ("['', ['https://s3.', !Ref 'AWS::URLSuffix', '/', !Ref Bucket, '/k.yaml']]", "s3.${AWS::Region}.${AWS::URLSuffix}"),
        ("['', ['https://', !Ref Bucket, '.s3.', !Ref 'AWS::URLSuffix', '/k.yaml']]", "${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}"),
    ],
)
def test_a_neutral_host_a_join_builds_around_the_url_suffix_is_reported(join: str, should_be: str) -> None:
    """A Join part cannot take `${AWS::Region}` (it would stay text): the host is reported with its form, never edited."""
    text = f"Parameters:\n  Bucket: {{Type: String}}\nResources:\n  S:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: !Join {join}\n"
    result = port(text)
    assert result.edits == ()
    found = [w for w in result.warnings if w.rule == "endpoints"]
    assert len(found) == 1 and f"should be {should_be}" in found[0].message and "/TemplateURL/Fn::Join/1/" in found[0].pointer


def test_a_join_around_the_url_suffix_that_the_target_has_is_quiet() -> None:
    text = ("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Environment:\n        Variables:\n"
            "          Q: !Join ['', ['https://sqs.', !Ref 'AWS::Region', '.', !Ref 'AWS::URLSuffix', '/q']]\n")
    result = port(text)
    assert result.edits == () and [w for w in result.warnings if w.rule == "endpoints"] == []
