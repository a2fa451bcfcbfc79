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
    assert message.endswith("the default domain read at /Outputs/Url/Value serves nothing in China")
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
