"""`rewrite_s3_assets`: point release assets at the customer's China bucket."""

from __future__ import annotations

import fnmatch
import re
from typing import Any, ClassVar

from ...errors import RegionError
from ...model.edits import Edit, EditLog, JsonPath, to_pointer
from ...model.walk import leading_meaning, semantic_path
from ...partitions.s3urls import OBJECT_KEYS, bucket_properties, forms, object_references
from ..asset_flow import FlowFindings, follow_assets, indexed_asset_values
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext


class RewriteS3Assets:
    """Rewrite references to `source_buckets` so they name `target_bucket` in China."""

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="rewrite_s3_assets",
        why=(
            'Nested templates, Lambda code and other assets are published in a global bucket, which China '
            'accounts cannot read, and China has no global S3 endpoint. The release copy tool copies the objects '
            "to the customer's bucket (assets under the same keys; release mode then points nested templates at their "
            "content keys); this action points every reference at it, in every "
            'form CloudFormation accepts (DESIGN.md section 3): virtual-hosted and path-style URLs with or '
            'without a region, `s3://` URIs, IAM ARNs, and `{S3Bucket, S3Key}` / `{Bucket, Key}` objects, also '
            'inside `Fn::Sub` and `Fn::Join`. Other buckets are moved where `bucket_map` names them (a URL, '
            '`s3://` URI or ARN, a bucket key, the Parameter default or Mapping entry that sets one). A bucket '
            "the rules do not map whose name places it in another partition's region "
            '(`sagemaker-ap-northeast-1-<account>`, from botocore\'s region list), read anywhere in the template '
            '(model data, environment, commands, job arguments, properties naming a bucket such as `Bucket` or '
            '`S3BucketName`, Parameter defaults), is a `global-bucket` blocker '
            'in the report at the place that sets it: copy the objects to a bucket in the target region and name '
            'it there, or map it.'
        ),
        safety='Changes buckets and hosts; keys are kept. Unmapped buckets in asset properties are reported.',
        params=(
            Param('source_buckets', 'Bucket names or globs whose objects are release assets (${AWS::Region} counts as *)', {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}, required=True),
            Param('target_bucket', 'Bucket the assets are copied to (usually ${bucket})', {'type': 'string', 'minLength': 1}, required=True),
            Param('region', 'Region of the target bucket (default: the target region)', {'type': 'string'}),
            Param('asset_properties', 'Resource properties that hold assets (Type.Property); an unmapped bucket there is a warning', {'type': 'array', 'items': {'type': 'string', 'pattern': '^[A-Za-z0-9:]+\\.[A-Za-z0-9]+$'}}),
            Param('bucket_map', 'Other global buckets and their China copies (e.g. aws-quickstart: aws-cn-quickstart), rewritten where the bucket is set (a URL, s3:// URI or ARN naming it, a bucket key, a Parameter default)', {'type': 'object', 'additionalProperties': {'type': 'string', 'minLength': 1}}),
            Param('region_defaults', "Rewrite a Parameter default that sets an asset bucket's region to the target region (else warn)", {'type': 'boolean'}),
        ),
        example=(
            'Resources:\n'
            '  Child:\n'
            '    Type: AWS::CloudFormation::Stack\n'
            '    Properties:\n'
            '      TemplateURL: https://panther-enterprise-us-west-1.s3.us-west-1.amazonaws.com/0bd4387e\n'
            '  Fn:\n'
            '    Type: AWS::Serverless::Function\n'
            '    Properties:\n'
            '      CodeUri: s3://panther-enterprise-us-west-1/f75a7d5b\n'
            '      Handler: main\n'
            '      Runtime: provided.al2\n'
        ),
        example_params={'source_buckets': ['panther-enterprise-*'], 'target_bucket': 'my-cn-bucket'},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        sources = [str(s) for s in rule.params.get("source_buckets", [])]
        target = str(rule.params["target_bucket"])
        region = str(rule.params.get("region") or context.region)
        partition = context.partition
        if not partition.has_region(region):
            raise RegionError(f"rule {rule.id}: the target bucket's region {region} is not in {partition.name}")
        asset_properties = {tuple(p.split(".", 1)) for p in rule.params.get("asset_properties", [])}
        edits: list[Edit] = []
        warnings: list[Finding] = []

        bucket_map = {str(k): str(v) for k, v in (rule.params.get("bucket_map") or {}).items()}

        verdicts: dict[str, bool] = {}  # a template names few buckets, each many times

        def ours(bucket: str) -> bool:
            verdict = verdicts.get(bucket)
            if verdict is None:
                verdict = verdicts[bucket] = _is_source(bucket, sources) or bucket in bucket_map
            return verdict

        def rewrite(match: re.Match[str]) -> str:
            key = match.group("key")
            china = bucket_map.get(match.group("bucket"), target)  # a mapped bucket, else a release asset's
            if match.re is forms()["s3-uri"]:
                return f"s3://{china}{key}"
            if match.re is forms()["arn"]:
                return f"arn:{partition.name}:s3:::{china}{key}"
            url = partition.object_url(china, region, key.lstrip("/"))
            if url is None:
                raise RegionError(f"rule {rule.id}: {partition.name} has no S3 endpoint in {region}")
            return url if key else url.removesuffix("/")  # a bucket URL without a key stays without the slash

        s3_strings = log.strings_containing("s3")
        bucket_objects = log.mappings_with(*OBJECT_KEYS)
        for path, value in s3_strings:
            new = value
            for form in forms().values() if sources or bucket_map else ():  # no source or mapped bucket: nothing is ours
                new = form.sub(lambda m: rewrite(m) if ours(m.group("bucket")) else m.group(0), new)
            if new != value:
                moved = sorted({bucket_map.get(m.group("bucket"), target) for form in forms().values() for m in form.finditer(value) if ours(m.group("bucket"))})
                edits.append(Edit(path, "replace", rule.id, f"S3 asset moved to the bucket {', '.join(moved)} ({region})", value=new))
            elif self._in_asset_property(log.model, path, asset_properties) and (
                found := next((m for form in forms().values() if (m := form.search(value))), None)
            ):
                bucket = found.group("bucket")
                if bucket == target:
                    continue  # already in the target bucket (a second run on an output): nothing to port
                warnings.append(Finding(path, f"asset in bucket {bucket!r}, which the rules do not map; copy it to the target partition yourself", rule.id,
                                            about=f"bucket {bucket}"))

        for reference in object_references(log.model, bucket_objects):  # strings were rewritten above
            if ours(reference.bucket):
                china = bucket_map.get(reference.bucket, target)
                if china == reference.bucket:
                    continue  # mapped to itself (project mode maps --bucket to --bucket): already where it belongs
                edits.append(Edit(reference.path, "replace", rule.id, f"S3 asset moved to the bucket {china}", value=china))
            elif "${" not in reference.bucket and reference.bucket != target and self._in_asset_property(
                log.model, reference.path, asset_properties
            ):
                warnings.append(Finding(reference.path, f"asset in bucket {reference.bucket!r}, which the rules do not map; copy it to the target partition yourself",
                                        rule.id, about=f"bucket {reference.bucket}"))
        findings = self._follow(log, rule, region, sources, target, asset_properties,
                                [path for path, _ in s3_strings], [path for path, _ in bucket_objects])
        if bucket_map:  # after _follow, which has moved the defaults of asset buckets already
            # a mapped bucket named by a property (BucketPolicy.Bucket, S3BucketName) or the default it reads
            edits += self._mapped_properties(log, rule.id, bucket_map, {edit.path for edit in edits})
        warnings = [w for w in warnings if not _followed(w, findings.followed)]
        warnings += [Finding(place, message, rule.id) for place, message in findings.messages()]
        for edit in edits:
            log.apply(edit)
        return warnings

    @staticmethod
    def _follow(log: EditLog, rule: BoundRule, region: str, sources: list[str], target: str,
                asset_properties: set[tuple[str, ...]], s3_paths: list[JsonPath], bucket_paths: list[JsonPath]) -> FlowFindings:
        """Buckets and regions set away from the asset: rewritten or warned where they are set (asset_flow)."""
        bucket_map = {str(k): str(v) for k, v in (rule.params.get("bucket_map") or {}).items()}

        def mapped(bucket: str) -> str | None:
            if bucket == target:
                return target  # the China bucket itself: nothing to move, nothing to report
            if bucket in bucket_map:
                return bucket_map[bucket]
            return target if _is_source(bucket, sources) else None

        assets = indexed_asset_values(log.model, asset_properties, s3_paths, bucket_paths)
        findings = follow_assets(
            log.model, assets, rule=rule.id, mapped=mapped, region=region,
            region_defaults=bool(rule.params.get("region_defaults")),
        )
        for edit in findings.edits.values():
            log.apply(edit)
        return findings

    @staticmethod
    def _mapped_properties(log: EditLog, rule: str, bucket_map: dict[str, str], done: set[JsonPath]) -> list[Edit]:
        """Edits for the `bucket_map` buckets that a property naming a bucket sets, or reads from a Parameter default."""
        edits: dict[JsonPath, Edit] = {}
        found = log.model.get("Parameters")
        parameters: dict[str, Any] = found if isinstance(found, dict) else {}
        for path, value in bucket_properties(log.model):
            if isinstance(value, dict):  # !Ref Parameter: its default sets the bucket
                entry = parameters.get(value["Ref"])
                place: JsonPath = ("Parameters", value["Ref"], "Default")
                value = entry.get("Default") if isinstance(entry, dict) else None
                where = f"its default, read as a bucket at {to_pointer(path)}"
            else:
                place, where = path, "a property that names a bucket"
            if (isinstance(value, str) and value in bucket_map and bucket_map[value] != value and place not in done
                    and place not in edits):
                edits[place] = Edit(place, "replace", rule, f"bucket {value} moved to its copy {bucket_map[value]} ({where})", value=bucket_map[value])
        return list(edits.values())

    @staticmethod
    def _in_asset_property(model: Any, path: JsonPath, properties: set[tuple[str, ...]]) -> bool:
        meaning = leading_meaning(path, 4)  # asked of every string with `s3`: not the whole semantic path
        if len(meaning) == 4 and meaning[0] == "Resources" and meaning[2] == "Properties":
            resource = model["Resources"].get(meaning[1])
            rtype = resource.get("Type") if isinstance(resource, dict) else None
            return (rtype, str(meaning[3])) in properties
        return "Fn::Transform" in path and "Location" in semantic_path(path)


def _followed(warning: Finding, followed: set[JsonPath]) -> bool:
    """An asset whose bucket is a `${Variable}` is reported where that variable is set, when that was found."""
    return "asset in bucket '${" in warning.message and any(warning.path[: len(asset)] == asset for asset in followed)


def _is_source(bucket: str, sources: list[str]) -> bool:
    """Whether `bucket` matches one of the rule's `source_buckets` globs (`${AWS::Region}` counts as any region)."""
    concrete = bucket.replace("${AWS::Region}", "region")
    return any(fnmatch.fnmatchcase(concrete, glob) or fnmatch.fnmatchcase(bucket, glob) for glob in sources)
