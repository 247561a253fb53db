"""Independent check that one migrate's backup and DynamoDB items are the same snapshot:
reads the backup's parts through boto3 (S3) and scans the DynamoDB table, then compares
them key by key on every attribute of the backup's records. Prints OK and the count, or the
differences; exit 1 on any.

usage: compare_backup_items.py ENDPOINT BUCKET MANIFEST_KEY DYNAMODB_TABLE KEY_ATTRIBUTE KEY_COLUMN
"""
import gzip
import json
import sys
from decimal import Decimal

import boto3

endpoint, bucket, manifest_key, table, key_attr, key_col = sys.argv[1:7]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
          aws_secret_access_key="testing")
s3, ddb = boto3.client("s3", **kw), boto3.client("dynamodb", **kw)

manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
backup = {}
for part in manifest["parts"]:
    body = s3.get_object(Bucket=bucket, Key=part["key"])["Body"].read()
    for line in gzip.decompress(body).decode().splitlines():
        row = json.loads(line)
        backup[str(row[key_col])] = row


def plain(av):
    (kind, v), = av.items()
    if kind == "N":
        return Decimal(v)
    return None if kind == "NULL" else v


items = {}
scan = {}
while True:
    page = ddb.scan(TableName=table, **scan)
    for it in page["Items"]:
        items[str(plain(it[key_attr]))] = it
    if "LastEvaluatedKey" not in page:
        break
    scan = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

errors = []
for k in sorted(set(backup) ^ set(items)):
    errors.append(f"key {k}: only in {'the backup' if k in backup else 'DynamoDB'}")
for k in sorted(set(backup) & set(items)):
    for col, v in backup[k].items():
        if col == key_col:
            continue
        got = plain(items[k][col]) if col in items[k] else None
        want = Decimal(str(v)) if isinstance(v, (int, float)) else v
        if got != want:
            errors.append(f"key {k}: {col} is {want!r} in the backup, {got!r} in DynamoDB")
if errors:
    print("\n".join(errors[:20]))
    sys.exit(1)
print(f"OK {len(backup)}")
