"""What a partition and its regions have: endpoints, hosts, resource types, bucket names, S3 URL forms.

Job: answer questions about AWS partitions from maintained data (botocore's endpoint data,
cfn-lint's region data, the shipped partition files): which hosts are service endpoints of
which partition (`endpoint_data`, `hosts`), the partition model and region checks
(`partition`), which resource types a region has (`region_data`), the S3 bucket naming rules
(`bucket_names`) and the S3 reference forms (`s3urls`).

May import: `model` and the top-level leaves; botocore's data loader (never a client: only
`release` talks to AWS).

Offers: `PartitionFacts` and `partition_facts`, `partition_of_region`/`partition_for`, host
classification, `region_data.resource_types`, `s3urls.find_references`.
"""
