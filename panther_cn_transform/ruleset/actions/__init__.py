"""Rule actions: one module per action, each class declaring itself (docstring and `spec`).

`ACTIONS` maps each action's name to its class.  An action reads the working model from
the `EditLog`, appends its edits through `log.apply`, and returns findings for what it
saw but could not translate.  Actions never touch text.  To add one: write a module with
a class that has a docstring (what it changes), a `spec` (rule_api.ActionSpec: why, safety,
parameters, example) and an `apply`, list it here, and regenerate `rules/schema.json` and
docs/rules.md (`rules schema`, `rules docs`); tests fail until both are current.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..rule_api import Action
from .add_fragment import AddFragment
from .edit_property import EditProperty
from .keep_resources import KeepResources
from .map_principals import MapPrincipals
from .remove_resources import RemoveResources
from .remove_unsupported import RemoveUnsupported
from .replace_text import ReplaceText
from .rewrite_alias_zones import RewriteAliasZones
from .rewrite_endpoints import RewriteEndpoints
from .rewrite_partition import RewritePartition
from .rewrite_s3_assets import RewriteS3Assets
from .rewrite_vpce_names import RewriteVpceNames
from .warn_arns import WarnArns
from .warn_cloudfront_aliases import WarnCloudFrontAliases
from .warn_managed_policies import WarnManagedPolicies
from .warn_missing_services import WarnMissingServices
from .warn_region_mappings import WarnRegionMappings
from .warn_scripts import WarnScripts

ACTIONS: Mapping[str, type[Action]] = MappingProxyType(
    {
        action.spec.name: action
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
            WarnMissingServices,
            WarnRegionMappings,
            WarnScripts,
            WarnCloudFrontAliases,
            AddFragment,
            EditProperty,
            RewriteAliasZones,
        )
    }
)

__all__ = ["ACTIONS"]
