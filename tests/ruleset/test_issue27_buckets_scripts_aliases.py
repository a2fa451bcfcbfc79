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
