"""Issue 27, classes 2, 3 and 4: buckets by where they live, scripts, CloudFront aliases.

Each class on a corpus template and on small written cases, in the shapes the China pack
missed before (a region subdomain written `${AWS::Region}`, the CLI through a variable, an
alias list that can be empty at deploy, a bucket whose name holds a global region inside it).
"""

from __future__ import annotations

from panther_cn_transform import load_rules, read_template, transform, transform_text

from ..corpus import CORPUS

CHINA = load_rules("china")
PUBLIC = CORPUS / "public" / "aws-cloudformation-templates"


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


def test_a_url_in_inline_code_that_downloads_nothing_is_not_a_download() -> None:
    path = CORPUS / "pairs" / "siem-log-exporter-workspaces" / "global.template"
    assert "__url__ = 'https://github.com/" in path.read_text()
    result = transform(read_template(path), CHINA, region="cn-north-1")
    assert not [w for w in result.warnings if w.message.startswith("downloads from")]


def test_the_gitea_and_greengrass_scripts_name_github_and_pypi() -> None:
    gitea = transform(read_template(PUBLIC / "Solutions" / "Gitea" / "Gitea-pkg.json"), CHINA, region="cn-north-1")
    greengrass = transform(read_template(PUBLIC / "IoT" / "amzn2-greengrass-cfn.yaml"), CHINA, region="cn-north-1")
    [clone] = [w for w in gitea.warnings if w.message.startswith("downloads from")]
    [pip] = [w for w in greengrass.warnings if w.message.startswith("downloads from")]
    assert clone.message.startswith("downloads from github.com (GitHub, line 25)") and clone.pointer.endswith("/UserData/Fn::Base64/Fn::Sub")
    assert pip.message.startswith("downloads from pypi.org (PyPI, line 3, pip3 install without an index)")


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
