"""Makes IAM users with access keys on a moto server started with request authentication on
(INITIAL_NO_AUTH_ACTION_COUNT=3): first "admin", allowed everything, with the three unsigned
calls; then, signed as admin, one user per entry of the spec read on stdin:

  [{"name": "backup", "policy": "docs/iam/backup.json", "without": "s3:PutObject"}, ...]

"without" (optional) drops one action from the policy. Each policy is handed to moto
translated to what moto checks (docs/iam/README.md, "What moto checks"):
  - S3: moto names the action after the API call, not after the IAM action AWS checks, so
    each AWS action becomes the calls it covers (s3:ListBucket -> HeadBucket and
    ListObjectsV2, s3:PutObject -> PutObject and the three multipart calls), and
    s3:DeleteObject becomes s3:DeleteObjects on the bucket (moto checks DeleteObjects against
    the bucket, AWS checks each key);
  - DynamoDB: moto matches every request against the resource "*", so a statement naming
    tables would never allow anything there: its resources become "*" (tests/integration/
    iam_audit.py checks the table names against the policy instead).
Prints {"<name>": {"id": ..., "secret": ...}} for admin and every user.

usage: iam_users.py ENDPOINT_URL < spec.json
"""
import json
import sys

import boto3

S3_CALLS = {
    "s3:ListBucket": ["s3:HeadBucket", "s3:ListObjectsV2"],
    "s3:PutObject": ["s3:PutObject", "s3:CreateMultipartUpload", "s3:UploadPart",
                     "s3:CompleteMultipartUpload"],
}


def as_list(v):
    return v if isinstance(v, list) else [v]


def for_moto(policy, without):
    out = []
    for st in policy["Statement"]:
        actions = [a for a in as_list(st["Action"]) if a != without]
        resources = as_list(st["Resource"])
        dynamodb = [a for a in actions if a.startswith("dynamodb:")]
        if dynamodb:
            out.append({"Effect": "Allow", "Action": dynamodb, "Resource": "*"})
        s3 = []
        for a in actions:
            if a == "s3:DeleteObject":
                buckets = sorted({r.split("/")[0] for r in resources})
                out.append({"Effect": "Allow", "Action": ["s3:DeleteObjects"], "Resource": buckets})
            elif a.startswith("s3:"):
                s3 += S3_CALLS.get(a, [a])
        if s3:
            out.append({"Effect": "Allow", "Action": s3, "Resource": resources})
    return {"Version": "2012-10-17", "Statement": out}


def make_user(iam, name, document):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def main():
    endpoint = sys.argv[1]
    spec = json.load(sys.stdin)

    def client(key_id, secret):
        return boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id=key_id, aws_secret_access_key=secret)

    keys = {"admin": make_user(client("bootstrap", "bootstrap"), "admin", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})}
    iam = client(keys["admin"]["id"], keys["admin"]["secret"])
    for entry in spec:
        with open(entry["policy"]) as f:
            policy = json.load(f)
        keys[entry["name"]] = make_user(iam, entry["name"],
                                        for_moto(policy, entry.get("without")))
    print(json.dumps(keys))


if __name__ == "__main__":
    main()
