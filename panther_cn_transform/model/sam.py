"""What SAM does with a template before CloudFormation sees it, as far as rules need to know.

Two SAM behaviours decide where a property of a serverless resource really comes from:

* `Globals.<Section>` supplies properties to every `AWS::Serverless::<Section>` resource
  that does not set them itself;
* a function (or state machine) event of type `Api` without a `RestApiId` makes SAM
  create an *implicit* API (`ServerlessRestApi`), which has no properties of its own but
  those of `Globals.Api`; an `HttpApi` event without `ApiId` does the same for `HttpApi`.

So a rule about `AWS::Serverless::Api` must also look at `Globals.Api`, and when the
template has an implicit API, `Globals.Api` is the only place to set anything for it.
Source: the SAM specification, "Globals section of the AWS SAM template" and "Api"
event source (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-template-anatomy-globals.html).
"""

from __future__ import annotations

from typing import Any

from .paths import JsonPath

_PREFIX = "AWS::Serverless::"
#: Globals sections and the event type (and the property naming an explicit API) that make an implicit resource.
_IMPLICIT = {"Api": ("Api", "RestApiId"), "HttpApi": ("HttpApi", "ApiId")}
_EVENT_SOURCES = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")


def globals_section(resource_type: str) -> str | None:
    """The `Globals` section that applies to `resource_type` (`Api` for `AWS::Serverless::Api`), if any."""
    if resource_type.startswith(_PREFIX) and "::" not in resource_type[len(_PREFIX):]:
        return resource_type[len(_PREFIX):]
    return None


def implicit_events(model: dict[str, Any], section: str) -> list[JsonPath]:
    """Paths of the events that make SAM create an implicit resource of `section` (`Api`, `HttpApi`)."""
    if section not in _IMPLICIT:
        return []
    event_type, explicit = _IMPLICIT[section]
    found: list[JsonPath] = []
    for logical_id, resource in (model.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") not in _EVENT_SOURCES:
            continue
        events = (resource.get("Properties") or {}).get("Events")
        if not isinstance(events, dict):
            continue
        for name, event in events.items():
            if isinstance(event, dict) and event.get("Type") == event_type:
                properties = event.get("Properties")
                if not isinstance(properties, dict) or explicit not in properties:
                    found.append(("Resources", logical_id, "Properties", "Events", name))
    return found
