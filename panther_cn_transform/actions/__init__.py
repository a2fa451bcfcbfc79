"""Rule actions: one module per kind of change, looked up by name in `ACTIONS`.

Each action is a class with an `apply(log, rule, context)` method that reads the working
model from the `EditLog`, appends its edits through `log.apply`, and returns warnings for
what it saw but could not translate.  Actions never touch text.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._base import Action, RuleContext, Warning
from .add_fragment import AddFragment
from .edit_property import EditProperty
from .keep_resources import KeepResources
from .map_principals import MapPrincipals
from .remove_resources import RemoveResources, RemoveUnsupported
from .replace_text import ReplaceText
from .rewrite_alias_zones import RewriteAliasZones
from .rewrite_endpoints import RewriteEndpoints
from .rewrite_partition import RewritePartition
from .rewrite_s3_assets import RewriteS3Assets
from .rewrite_vpce_names import RewriteVpceNames
from .warn import WarnArns, WarnManagedPolicies, WarnRegionMappings
from .warn_scripts import WarnScripts

ACTIONS: Mapping[str, type[Action]] = MappingProxyType(
    {
        action.name: action
        for action in (
            RemoveUnsupported,
            RemoveResources,
            KeepResources,
            RewritePartition,
            RewriteEndpoints,
            MapPrincipals,
            ReplaceText,
            RewriteVpceNames,
            RewriteS3Assets,
            WarnArns,
            WarnManagedPolicies,
            WarnRegionMappings,
            WarnScripts,
            AddFragment,
            EditProperty,
            RewriteAliasZones,
        )
    }
)

__all__ = ["ACTIONS", "Action", "RuleContext", "Warning"]
