"""Asks a moto server with request authentication on how it checks the S3 and DynamoDB calls
the service makes, by making each call as three users, each allowed the calls under the names
moto checks (iam_users.py): "nobody" none of them, "scoped" each on exactly the bucket, object
or table it acts on (as AWS reads them: DeleteObjects on the keys), "elsewhere" each on other
buckets and tables only; and as a fourth, "aws-names", allowed everywhere the IAM actions AWS
checks for them (s3:ListBucket for HeadBucket, s3:PutObject for the multipart calls...). A
call that nobody gets through is one whose action moto does not check; one refused to scoped,
one moto cannot allow on its resource alone; one elsewhere gets through, one whose resource
moto does not check; one refused to aws-names, one moto checks under another name than AWS.

Prints {"unenforced_actions", "refused_when_scoped", "unenforced_resources",
"aws_names_refused"}, each a sorted list of "s3:<Call>" / "dynamodb:<Call>".

usage: iam_probe.py ENDPOINT_URL ADMIN_KEY_ID ADMIN_SECRET
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

BUCKET, TABLE = "probe-bucket", "probe-table"
# The IAM action AWS checks for a call, where it is not the call's own name.
AWS_ACTION = {"s3:HeadBucket": "s3:ListBucket", "s3:ListObjectsV2": "s3:ListBucket",
              "s3:DeleteObjects": "s3:DeleteObject", "s3:CreateMultipartUpload": "s3:PutObject",
              "s3:UploadPart": "s3:PutObject", "s3:CompleteMultipartUpload": "s3:PutObject"}
KEY_SCHEMA = {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
              "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
              "BillingMode": "PAY_PER_REQUEST"}


def clients(endpoint, key_id, secret):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
              aws_secret_access_key=secret)
    return boto3.client("s3", **kw), boto3.client("dynamodb", **kw)


def calls(upload):
    """Each call the service makes: (name, the resource it acts on, function of (s3, db))."""
    item = {"id": {"S": "x"}}
    bucket, obj = f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/"
    table = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"
    return [
        ("s3:CreateBucket", "arn:aws:s3:::probe-new",
         lambda s3, db: s3.create_bucket(Bucket="probe-new")),
        ("s3:HeadBucket", bucket, lambda s3, db: s3.head_bucket(Bucket=BUCKET)),
        ("s3:ListObjectsV2", bucket, lambda s3, db: s3.list_objects_v2(Bucket=BUCKET)),
        ("s3:PutObject", obj + "k",
         lambda s3, db: s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")),
        ("s3:GetObject", obj + "k", lambda s3, db: s3.get_object(Bucket=BUCKET, Key="k")),
        ("s3:DeleteObjects", obj + "gone", lambda s3, db: s3.delete_objects(
            Bucket=BUCKET, Delete={"Objects": [{"Key": "gone"}]})),
        ("s3:CreateMultipartUpload", obj + "m2",
         lambda s3, db: s3.create_multipart_upload(Bucket=BUCKET, Key="m2")),
        ("s3:UploadPart", obj + "m", lambda s3, db: s3.upload_part(
            Bucket=BUCKET, Key="m", UploadId=upload, PartNumber=2, Body=b"p")),
        ("s3:CompleteMultipartUpload", obj + "m", lambda s3, db: s3.complete_multipart_upload(
            Bucket=BUCKET, Key="m", UploadId=upload, MultipartUpload={"Parts": []})),
        ("s3:AbortMultipartUpload", obj + "m", lambda s3, db: s3.abort_multipart_upload(
            Bucket=BUCKET, Key="m", UploadId="no-such-upload")),
        ("dynamodb:CreateTable", table.replace(TABLE, "probe-new"),
         lambda s3, db: db.create_table(TableName="probe-new", **KEY_SCHEMA)),
        ("dynamodb:DescribeTable", table, lambda s3, db: db.describe_table(TableName=TABLE)),
        ("dynamodb:BatchWriteItem", table, lambda s3, db: db.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": item}}]})),
        ("dynamodb:PutItem", table, lambda s3, db: db.put_item(TableName=TABLE, Item=item)),
        ("dynamodb:GetItem", table, lambda s3, db: db.get_item(TableName=TABLE, Key=item)),
        ("dynamodb:Scan", table, lambda s3, db: db.scan(TableName=TABLE)),
    ]


def refused(call, s3, db):
    try:
        answer = call(s3, db)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # DeleteObjects answers 200 and refuses key by key.
    return any(err.get("Code") == "AccessDenied" for err in answer.get("Errors", []))


def make_user(iam, endpoint, name, statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return clients(endpoint, key["AccessKeyId"], key["SecretAccessKey"])


def main():
    endpoint, admin_id, admin_secret = sys.argv[1:4]
    s3, db = clients(endpoint, admin_id, admin_secret)
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=admin_id, aws_secret_access_key=admin_secret)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="m")["UploadId"]
    db.create_table(TableName=TABLE, **KEY_SCHEMA)
    probes = calls(upload)
    allow = lambda action, resource: {"Effect": "Allow", "Action": action, "Resource": resource}
    users = {
        "nobody": [allow("sqs:ListQueues", "*")],
        "scoped": [allow(name, resource) for name, resource, _ in probes],
        "elsewhere": [allow([name for name, _, _ in probes], [
            "arn:aws:s3:::other-bucket", "arn:aws:s3:::other-bucket/*",
            "arn:aws:dynamodb:us-east-1:123456789012:table/other-table"])],
        "aws-names": [allow(sorted({AWS_ACTION.get(name, name) for name, _, _ in probes}), "*")],
    }
    result = {}
    for user, statements in users.items():
        c = make_user(iam, endpoint, "probe-" + user, statements)
        result[user] = {name for name, _, call in probes if refused(call, *c)}
    names = {name for name, _, _ in probes}
    print(json.dumps({
        "unenforced_actions": sorted(names - result["nobody"]),
        "refused_when_scoped": sorted(result["scoped"]),
        "unenforced_resources": sorted(names - result["elsewhere"]),
        "aws_names_refused": sorted(result["aws-names"]),
    }))


if __name__ == "__main__":
    main()
