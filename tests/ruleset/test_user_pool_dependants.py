"""Issue 27, class 5: what a removed Cognito user pool leaves behind.

Whatever works only with a user pool (authorizers, OpenSearch's Cognito options, custom
resources that set Cognito up) stays, with a blocker at its place naming the
alternatives; the parameter that now stands for the pool says what kind of value it is;
an identity pool keeps working without the pool's provider where it has another way in.
"""

from __future__ import annotations

from datetime import date

from panther_cn_transform import load_rules, read_template, transform, transform_text
from panther_cn_transform.report.blockers import find_blockers

from ..corpus import CORPUS

CHINA = load_rules("china")
TODAY = date(2026, 12, 1)


def user_pool_blockers(model: dict, region: str = "cn-north-1") -> list[str]:
    return ["/".join(map(str, b.path)) for b in find_blockers(model, region=region, bucket=None, today=TODAY) if b.kind == "user-pool"]


def test_webapp_keeps_its_cognito_authorizer_and_method_with_a_blocker_and_a_parameter_named_for_an_arn() -> None:
    path = CORPUS / "public" / "aws-cloudformation-templates" / "Solutions" / "WebApp" / "webapp.yaml"
    result = transform(read_template(path), CHINA, region="cn-north-1")
    resources = result.model["Resources"]
    assert {"RestApiAuthorizer", "TestResourceGet"} <= set(resources)  # the API keeps its method
    assert resources["RestApiAuthorizer"]["Properties"]["ProviderARNs"] == [{"Ref": "CognitoUserPoolArn"}]
    assert "the Arn of an AWS::Cognito::UserPool" in result.model["Parameters"]["CognitoUserPoolArn"]["Description"]
    assert "the UserPoolId of an AWS::Cognito::UserPool" in result.model["Parameters"]["CognitoPoolId"]["Description"]
    assert user_pool_blockers(result.model) == ["Resources/RestApiAuthorizer/Properties/ProviderARNs"]
    (blocker,) = [b for b in find_blockers(result.model, region="cn-north-1", bucket=None, today=TODAY) if b.kind == "user-pool"]
    assert "IAM authorization, a Lambda authorizer, or an identity provider outside aws-cn" in blocker.message
    # the global template in its own region needs no blocker: it has user pools
    assert not user_pool_blockers(read_template(path).model, region="us-east-1")


TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  UserPool:
    Type: AWS::Cognito::UserPool
  Client:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: !Ref UserPool}
  IdPool:
    Type: AWS::Cognito::IdentityPool
    Properties:
      AllowUnauthenticatedIdentities: true
      CognitoIdentityProviders:
        - ClientId: !Ref Client
          ProviderName: !GetAtt UserPool.ProviderName
  ClosedPool:
    Type: AWS::Cognito::IdentityPool
    Properties:
      AllowUnauthenticatedIdentities: false
      CognitoIdentityProviders:
        - ClientId: !Ref Client
          ProviderName: !GetAtt UserPool.ProviderName
  Roles:
    Type: AWS::Cognito::IdentityPoolRoleAttachment
    Properties:
      IdentityPoolId: !Ref IdPool
      Roles: {unauthenticated: arn:aws:iam::123456789012:role/u}
      RoleMappings:
        users:
          IdentityProvider: !Sub cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}:${Client}
          Type: Token
          AmbiguousRoleResolution: Deny
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: r
      EndpointConfiguration: {Types: [REGIONAL]}
      Body:
        swagger: '2.0'
        info: {title: x}
        securityDefinitions:
          pool:
            type: apiKey
            name: Authorization
            in: header
            x-amazon-apigateway-authtype: cognito_user_pools
            x-amazon-apigateway-authorizer:
              type: cognito_user_pools
              providerARNs:
                - !Sub arn:aws:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${UserPool}
        paths: {}
  Search:
    Type: AWS::OpenSearchService::Domain
    Properties:
      CognitoOptions:
        Enabled: true
        UserPoolId: !Ref UserPool
        IdentityPoolId: !Ref IdPool
        RoleArn: arn:aws:iam::123456789012:role/r
  Setup:
    Type: Custom::CognitoUsers
    Properties:
      ServiceToken: arn:aws:lambda:cn-north-1:123456789012:function:f
      Pool: !Ref UserPool
"""


def test_a_pool_id_in_an_authorizer_arn_is_named_as_an_id_and_every_dependant_blocks() -> None:
    result = transform_text(TEMPLATE, CHINA, region="cn-north-1")
    model = result.model
    arn = model["Resources"]["Api"]["Properties"]["Body"]["securityDefinitions"]["pool"]["x-amazon-apigateway-authorizer"]["providerARNs"][0]
    assert arn == {"Fn::Sub": "arn:aws-cn:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${UserPoolId}"}  # an id, not an ARN
    assert "its Ref: the UserPoolId of an AWS::Cognito::UserPool" in model["Parameters"]["UserPoolId"]["Description"]
    assert "Search" in model["Resources"]  # kept, not removed with its Cognito options
    assert model["Resources"]["Search"]["Properties"]["CognitoOptions"]["UserPoolId"] == {"Ref": "UserPoolId"}
    assert user_pool_blockers(model) == [
        "Resources/Api/Properties/Body/securityDefinitions/pool",
        "Resources/Search/Properties/CognitoOptions",
        "Resources/Setup",
    ]


def test_an_identity_pool_with_another_way_in_stays_without_the_removed_provider() -> None:
    model = transform_text(TEMPLATE, CHINA, region="cn-north-1").model
    assert model["Resources"]["IdPool"]["Properties"] == {"AllowUnauthenticatedIdentities": True}
    # its roles stay attached; only the removed provider's role mapping goes
    assert model["Resources"]["Roles"]["Properties"] == {"IdentityPoolId": {"Ref": "IdPool"}, "Roles": {"unauthenticated": "arn:aws-cn:iam::123456789012:role/u"}}
    assert "ClosedPool" not in model["Resources"]  # nothing lets anyone in any more
    # cn-northwest-1 has no identity pools: removed there by type
    assert "IdPool" not in transform_text(TEMPLATE, CHINA, region="cn-northwest-1").model["Resources"]


def test_an_optional_user_pool_setting_in_an_if_branch_goes_instead_of_asking_for_a_pool() -> None:
    text = """\
Conditions:
  UseAuth: !Equals [a, b]
Resources:
  Pool: {Type: AWS::Cognito::UserPool}
  Graph:
    Type: AWS::AppSync::GraphQLApi
    Properties:
      Name: api
      AuthenticationType: API_KEY
      UserPoolConfig: !If [UseAuth, {UserPoolId: !Ref Pool, AwsRegion: x, DefaultAction: ALLOW}, !Ref 'AWS::NoValue']
  Lb:
    Type: AWS::ElasticLoadBalancingV2::ListenerRule
    Properties:
      ListenerArn: arn:aws:elasticloadbalancing:cn-north-1:1:listener/app/x/1/2
      Priority: 1
      Conditions: [{Field: path-pattern, Values: [/x]}]
      Actions:
        - Type: authenticate-cognito
          Order: 1
          AuthenticateCognitoConfig: {UserPoolArn: !GetAtt Pool.Arn, UserPoolClientId: c, UserPoolDomain: d}
        - {Type: fixed-response, Order: 2, FixedResponseConfig: {StatusCode: '200'}}
"""
    model = transform_text(text, CHINA, region="cn-north-1").model
    assert model["Resources"]["Graph"]["Properties"]["UserPoolConfig"]["Fn::If"][1] == {"Ref": "AWS::NoValue"}
    assert model["Resources"]["Lb"]["Properties"]["Actions"][0]["AuthenticateCognitoConfig"]["UserPoolArn"] == {"Ref": "UserPoolArn"}
    assert user_pool_blockers(model) == ["Resources/Lb/Properties/Actions/0"]


def test_jwt_authorizers_whose_issuer_is_a_removed_pool_stay_and_block() -> None:
    text = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  UserPool: {Type: AWS::Cognito::UserPool}
  Client:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: !Ref UserPool}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: !Sub https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}
              audience: [!Ref Client]
  V2Auth:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: abc
      AuthorizerType: JWT
      Name: j
      IdentitySource: [$request.header.Authorization]
      JwtConfiguration:
        Issuer: !Sub https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}
        Audience: [!Ref Client]
"""
    model = transform_text(text, CHINA, region="cn-north-1").model
    assert set(model["Resources"]) == {"Http", "V2Auth"}
    assert set(model["Parameters"]) == {"UserPoolId", "ClientId"}  # what each holds, not "JwtJwtConfiguration"
    assert model["Resources"]["V2Auth"]["Properties"]["JwtConfiguration"]["Audience"] == [{"Ref": "ClientId"}]
    assert user_pool_blockers(model) == ["Resources/Http/Properties/Auth/Authorizers/Jwt/JwtConfiguration",
                                         "Resources/V2Auth/Properties/JwtConfiguration/Issuer"]
