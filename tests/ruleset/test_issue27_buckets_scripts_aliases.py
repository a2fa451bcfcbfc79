"""Issue 27, classes 2, 3 and 4: buckets by where they live, scripts, CloudFront aliases.

Each class on a corpus template and on small written cases, in the shapes the China pack
missed before (a region subdomain written `${AWS::Region}`, the CLI through a variable, an
alias list that can be empty at deploy, a bucket whose name holds a global region inside it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from panther_cn_transform import load_rules, read_template, transform, transform_text
from panther_cn_transform.model.paths import to_pointer
from panther_cn_transform.partitions.bucket_names import regions_in_bucket_name
from panther_cn_transform.report.blockers import find_blockers

from ..corpus import CORPUS

CHINA = load_rules("china")
PUBLIC = CORPUS / "public" / "aws-cloudformation-templates"



# -- class 2: buckets by where they live ------------------------------------------------------

SAGEMAKER = """\
Parameters:
  DataUri:
    Type: String
    Description: where the data is, in a bucket such as s3://example-data-us-east-1
    Default: s3://sagemaker-ap-northeast-1-123456789012/data/train.csv
  SourceBucket: {Type: String, Default: my-data-eu-west-1-archive}
Mappings:
  Examples:
    us-east-1: {Uri: s3://cloudformation-examples-us-east-1}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties: {AssumeRolePolicyDocument: {}}
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !GetAtt Role.Arn
      PrimaryContainer:
        Image: 123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/model:1
        ModelDataUrl: s3://sagemaker-ap-northeast-1-123456789012/model/model.tar.gz
        Environment:
          SAGEMAKER_SUBMIT_DIRECTORY: s3://sagemaker-ap-northeast-1-123456789012/code/sourcedir.tar.gz
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: train
          Image: train
          Command: [python, train.py, --data, "s3://sagemaker-ap-northeast-1-123456789012/"]
          Environment: [{Name: INPUT, Value: !Sub "s3://${SourceBucket}/in/"}]
"""

MAPPED = """\
extends: china
rules:
  - id: s3-assets
    description: Data copied to buckets in China.
    source_url: https://docs.amazonaws.cn/en_us/aws/latest/userguide/s3.html
    action: rewrite_s3_assets
    source_buckets: []
    target_bucket: ${region}-assets
    bucket_map: BUCKETS
"""


def _bucket_blockers(text: str, rules: object = CHINA) -> dict[str, str]:
    result = transform_text(text, rules, region="cn-north-1")  # type: ignore[arg-type]
    found = find_blockers(result.model, region="cn-north-1", bucket=None, today=date(2026, 12, 7))
    return {to_pointer(b.path): b.message for b in found if b.kind == "global-bucket"}


def test_a_bucket_named_after_a_global_region_is_a_blocker_where_it_is_set() -> None:
    found = _bucket_blockers(SAGEMAKER)
    assert sorted(found) == [
        "/Parameters/DataUri/Default",
        "/Parameters/SourceBucket/Default",  # the default that sets the bucket, not the Sub that reads it
        "/Resources/Model/Properties/PrimaryContainer/Environment/SAGEMAKER_SUBMIT_DIRECTORY",
        "/Resources/Model/Properties/PrimaryContainer/ModelDataUrl",
        "/Resources/Task/Properties/ContainerDefinitions/0/Command/3",  # a bucket without a key too
    ]  # the Description's example and the us-east-1 Mapping entry are not read in China
    assert found["/Resources/Model/Properties/PrimaryContainer/ModelDataUrl"] == (
        "s3://sagemaker-ap-northeast-1-123456789012/model/model.tar.gz reads bucket sagemaker-ap-northeast-1-123456789012, "
        "which its name places in ap-northeast-1 (aws): copy the objects to a bucket in cn-north-1 and name that bucket "
        "here (or map it: rewrite_s3_assets bucket_map)")
    assert "parameter SourceBucket (a bucket, read at /Resources/Task/Properties/ContainerDefinitions/0/Environment/0/Value/Fn::Sub)" in (
        found["/Parameters/SourceBucket/Default"])


def test_a_property_that_names_an_existing_bucket_is_read_where_it_is_set(tmp_path: Path) -> None:
    text = """\
Parameters:
  TrailBucket: {Type: String, Default: org-trail-eu-west-1}
Resources:
  Copy:
    Type: AWS::S3::Bucket
    Properties: {BucketName: mirror-us-east-1}  # creates a bucket: any name will do in China
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: shared-logs-us-east-1
      PolicyDocument: {Statement: []}
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties: {IsLogging: true, S3BucketName: !Ref TrailBucket}
"""
    found = _bucket_blockers(text)
    assert sorted(found) == ["/Parameters/TrailBucket/Default", "/Resources/Policy/Properties/Bucket"]
    assert found["/Resources/Policy/Properties/Bucket"].startswith(
        "property Bucket reads bucket shared-logs-us-east-1, which its name places in us-east-1 (aws)")
    # mapped, both move where they are set (the bucket resource's own name stays), and nothing blocks
    rules = tmp_path / "map.yml"
    rules.write_text(MAPPED.replace("BUCKETS", "{shared-logs-us-east-1: shared-logs-cn, org-trail-eu-west-1: org-trail-cn, "
                                                "mirror-us-east-1: never-used}"))
    result = transform_text(text, load_rules(rules), region="cn-north-1")
    assert result.model["Resources"]["Policy"]["Properties"]["Bucket"] == "shared-logs-cn"
    assert result.model["Parameters"]["TrailBucket"]["Default"] == "org-trail-cn"
    assert result.model["Resources"]["Copy"]["Properties"]["BucketName"] == "mirror-us-east-1"
    assert not _bucket_blockers(text, load_rules(rules))


def test_a_mapped_bucket_is_rewritten_in_plain_strings_and_blocks_nothing(tmp_path: Path) -> None:
    rules = tmp_path / "data.yml"
    rules.write_text(MAPPED.replace("BUCKETS", "{sagemaker-ap-northeast-1-123456789012: my-cn-data}"))
    mapped = load_rules(rules)
    result = transform_text(SAGEMAKER, mapped, region="cn-north-1")
    container = result.model["Resources"]["Model"]["Properties"]["PrimaryContainer"]
    assert container["ModelDataUrl"] == "s3://my-cn-data/model/model.tar.gz"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "s3://my-cn-data/code/sourcedir.tar.gz"
    assert result.model["Parameters"]["DataUri"]["Default"] == "s3://my-cn-data/data/train.csv"
    assert sorted(_bucket_blockers(SAGEMAKER, mapped)) == ["/Parameters/SourceBucket/Default"]  # the one left unmapped


def test_regions_in_bucket_names_come_from_botocore() -> None:
    assert regions_in_bucket_name("sagemaker-ap-northeast-1-123456789012") == ("ap-northeast-1",)
    assert regions_in_bucket_name("logs.eu-west-1.example") == ("eu-west-1",)
    assert regions_in_bucket_name("my-cn-north-1-data") == ("cn-north-1",)
    assert regions_in_bucket_name("aus-east-1x") == regions_in_bucket_name("my-bucket") == ()


def test_the_webapp_lambda_code_bucket_default_is_a_blocker_at_the_default() -> None:
    result = transform(read_template(PUBLIC / "Solutions" / "WebApp" / "webapp.yaml"), CHINA, region="cn-north-1")
    found = find_blockers(result.model, region="cn-north-1", bucket=None, today=date(2026, 12, 7))
    [blocker] = [b for b in found if "which its name places" in b.message]
    assert to_pointer(blocker.path) == "/Parameters/LambdaCodeS3Bucket/Default"
    assert "reads bucket rain-artifacts-207567786752-us-east-1, which its name places in us-east-1 (aws)" in blocker.message


# -- class 3: console hosts with a region subdomain ------------------------------------------


def test_a_console_host_with_a_region_subdomain_becomes_the_china_console() -> None:
    text = """\
Resources:
  T: {Type: AWS::SNS::Topic}
Outputs:
  Logs:
    Value: !Sub https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#logs
"""
    result = transform_text(text, CHINA, region="cn-north-1")
    assert result.model["Outputs"]["Logs"]["Value"] == {
        "Fn::Sub": "https://console.amazonaws.cn/cloudwatch/home?region=${AWS::Region}#logs"}


def test_the_client_vpn_dashboard_links_go_to_the_china_console() -> None:
    path = PUBLIC / "CloudWatch" / "CloudWatch_Dashboard_ClientVPN.yml"
    result = transform(read_template(path), CHINA, region="cn-northwest-1")
    links = [value for output in result.model["Outputs"].values()
             for value in [output["Value"].get("Fn::Sub", "") if isinstance(output["Value"], dict) else output["Value"]]
             if "console" in value]
    assert len(links) == 2
    assert all(link.startswith("https://console.amazonaws.cn/cloudwatch/home?region=${AWS::Region}") for link in links)



# -- class 3: the CLI through a variable or an alias; downloads from hosts China cannot reach well


SCRIPT = """\
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12345678
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash
          AWS=/usr/local/bin/aws
          AWSR="aws --region ${AWS::Region}"
          alias s3cli='aws --output json'
          $AWS s3 cp s3://${Bucket}/a /tmp/a
          ${!AWS} s3 sync s3://${Bucket}/b /tmp/b
          $AWSR s3 cp s3://${Bucket}/c /tmp/c
          s3cli s3 ls s3://${Bucket}
          # git clone https://github.com/example/commented-out
          git clone https://github.com/aws/efs-utils.git
          pip3 install boto3
          pip install -i https://mirror.example.cn/simple requests
          curl -sL https://raw.githubusercontent.com/example/tool/main/install.sh | bash
"""


def _script_findings(text: str) -> list[str]:
    result = transform_text(text, CHINA, region="cn-north-1")
    return [w.message for w in result.warnings if w.rule == "scripts"]


def test_the_cli_through_a_variable_or_an_alias_needs_a_region_too() -> None:
    found = [m for m in _script_findings(SCRIPT) if "has no --region" in m]
    assert [m.split("`")[1] for m in found] == [
        "$AWS s3 cp s3://${Bucket}/a /tmp/a", "${!AWS} s3 sync s3://${Bucket}/b /tmp/b", "s3cli s3 ls s3://${Bucket}"]
    assert [m.split(":")[0] for m in found] == ["line 5", "line 6", "line 8"]


def test_an_alias_that_gives_the_cli_its_region_covers_aws_s3() -> None:
    text = SCRIPT.replace("alias s3cli='aws --output json'", "alias aws='aws --region ${AWS::Region}'").replace(
        "$AWS s3 cp", "aws s3 cp")
    assert not [m for m in _script_findings(text) if "aws s3 cp" in m]


def test_downloads_from_hosts_china_reaches_badly_are_warned_once_per_script() -> None:
    [found] = [m for m in _script_findings(SCRIPT) if m.startswith("downloads from")]
    # a comment is no download; pip with its own index is no PyPI download; each host once, at its first line
    assert found.startswith("downloads from github.com (GitHub, line 10); pypi.org (PyPI, line 11, pip3 install without an index); "
                            "raw.githubusercontent.com (GitHub, line 13): slow or unreachable from aws-cn's regions")


def test_the_gitea_and_greengrass_scripts_name_github_and_pypi() -> None:
    gitea = transform(read_template(PUBLIC / "Solutions" / "Gitea" / "Gitea-pkg.json"), CHINA, region="cn-north-1")
    greengrass = transform(read_template(PUBLIC / "IoT" / "amzn2-greengrass-cfn.yaml"), CHINA, region="cn-north-1")
    [clone] = [w for w in gitea.warnings if w.message.startswith("downloads from")]
    [pip] = [w for w in greengrass.warnings if w.message.startswith("downloads from")]
    assert clone.message.startswith("downloads from github.com (GitHub, line 25)") and clone.pointer.endswith("/UserData/Fn::Base64/Fn::Sub")
    assert pip.message.startswith("downloads from pypi.org (PyPI, line 3, pip3 install without an index)")
    # a URL in inline code that downloads nothing (`__url__ = 'https://github.com/...'`) is no download
    siem = CORPUS / "pairs" / "siem-log-exporter-workspaces" / "global.template"
    assert "__url__ = 'https://github.com/" in siem.read_text()
    assert not [w for w in transform(read_template(siem), CHINA, region="cn-north-1").warnings if w.message.startswith("downloads from")]


# -- class 4: CloudFront aliases -------------------------------------------------------------

DISTRIBUTION = """\
Parameters:
  Domain: {Type: String, Default: ""}
  Domains: {Type: CommaDelimitedList, Default: ""}
  Zone: {Type: String}
Conditions:
  HasDomain: !Not [!Equals [!Ref Domain, ""]]
Resources:
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        ALIASES
        Origins: [{Id: o, DomainName: example.com, CustomOriginConfig: {OriginProtocolPolicy: https-only}}]
        DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: redirect-to-https, ForwardedValues: {QueryString: false}}
  Record:
    Type: AWS::Route53::RecordSet
    Properties:
      HostedZoneId: !Ref Zone
      Name: !Ref Domain
      Type: A
      AliasTarget: {DNSName: !GetAtt Cdn.DomainName, HostedZoneId: Z2FDTNDATAQYW2}
Outputs:
  Url: {Value: !Sub "https://${Cdn.DomainName}/index.html"}
"""
ALIASES = "/Resources/Cdn/Properties/DistributionConfig/Aliases"


def _alias_findings(aliases: str) -> list[tuple[str, str]]:
    result = transform_text(DISTRIBUTION.replace("ALIASES", aliases), CHINA, region="cn-north-1")
    return [(w.pointer, w.message) for w in result.warnings if w.rule == "cloudfront-aliases"]


def test_an_alias_list_that_is_empty_when_a_condition_says_so_cannot_serve() -> None:
    [(where, message)] = _alias_findings("Aliases: [!If [HasDomain, !Ref Domain, !Ref AWS::NoValue]]")
    assert where == ALIASES
    assert message.startswith("no alternate domain name when condition HasDomain says so: CloudFront China cannot serve")
    # the HTTPS policy needs a certificate for the alias; the output hands out a domain that serves nothing;
    # the Route 53 alias target is how an alias points at a distribution, not a reader
    assert "/Resources/Cdn/Properties/DistributionConfig/DefaultCacheBehavior/ViewerProtocolPolicy" in message
    assert message.endswith("the default domain read at /Outputs/Url/Value serves nothing there")
    assert "Record" not in message


def test_aliases_from_a_parameter_that_defaults_to_empty_cannot_serve() -> None:
    [(where, message)] = _alias_findings("Aliases: !Ref Domains")
    assert where == ALIASES and message.startswith("no alternate domain name when parameter Domains is empty:")
    [(_, item)] = _alias_findings("Aliases: [!Ref Domain]")  # compared with "" in a Condition, and defaults to it
    assert item.startswith("no alternate domain name when parameter Domain is empty:")


def test_set_aliases_get_one_icp_reminder_and_no_alias_one_finding() -> None:
    [(where, message)] = _alias_findings("Aliases: [www.example.cn, !Ref Domain]")
    assert where == ALIASES and message.startswith("CloudFront China serves an alternate domain name only with an ICP recordal")
    [(where, message)] = _alias_findings("Aliases: [!Ref Zone]")  # a parameter that must be given
    assert "ICP recordal" in message and "cannot serve" not in message
    [(where, message)] = _alias_findings("Comment: no aliases")
    assert where == ALIASES and message.startswith("no alternate domain name: CloudFront China cannot serve")


def test_the_image_handler_distributions_name_what_reads_their_default_domain() -> None:
    path = CORPUS / "pairs" / "serverless-image-handler" / "global.template"
    result = transform(read_template(path), CHINA, region="cn-north-1")
    found = {w.pointer: w.message for w in result.warnings if w.rule == "cloudfront-aliases"}
    api = found["/Resources/ImageHandlerDistribution/Properties/DistributionConfig/Aliases"]
    demo = found["/Resources/DemoDistribution/Properties/DistributionConfig/Aliases"]
    assert len(found) == 2
    assert "/Resources/CustomResourceConfig/Properties/configItem/apiEndpoint" in api and "/Outputs/ApiEndpoint/Value" in api
    assert "/Resources/DemoDistribution/Properties/DistributionConfig/DefaultCacheBehavior/ViewerProtocolPolicy" in demo
