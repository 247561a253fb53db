"""Creates an IAM user with full access on a moto server started with request
authentication on (INITIAL_NO_AUTH_ACTION_COUNT), and prints its access key as JSON.
These three calls are the unauthenticated ones; every later call must be signed.

usage: moto_auth_setup.py ENDPOINT_URL
"""
import json
import sys

import boto3

iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="ingest")
iam.put_user_policy(UserName="ingest", PolicyName="all", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": "*"}]}))
key = iam.create_access_key(UserName="ingest")["AccessKey"]
print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
