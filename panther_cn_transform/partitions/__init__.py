"""What a partition and its regions have: endpoints, hosts, resource types, bucket names, S3 URL forms.

Job: answer questions about AWS partitions from maintained data (botocore's endpoint data,
cfn-lint's region data, the shipped partition files): which hosts are service endpoints of
which partition (`endpoint_data`, `hosts`), the partition model and region checks
(`partition`), which resource types a region has (`region_data`), the S3 bucket naming rules
(`bucket_names`), the S3 reference forms (`s3urls`) and nested-template locations through
intrinsics (`nested_locations`).

May import: `model` and the top-level leaves; botocore's data loader (never a client: only
`release` talks to AWS).

Offers: `PartitionFacts` and `build_partition`, `partition_of_region`/`partition_for`, host
classification (`hosts`), `region_data.load_region_data`, `s3urls.find_references`, and where a
template's nested templates are read from (`nested_locations`).
"""
