"""Checks every S3 and DynamoDB request a moto server recorded (MOTO_ENABLE_RECORDING) against
the IAM policy of the user who signed it, the way AWS would: each request becomes the IAM
action AWS checks and the resources it names (HeadBucket and ListObjectsV2 are s3:ListBucket
on the bucket, the multipart calls s3:PutObject on the object, DeleteObjects s3:DeleteObject
on each key, a DynamoDB call dynamodb:<Operation> on each table it names), and must be allowed
by one of the policy's statements (Allow only, no conditions; `*` in an action or resource
matches any characters, as in IAM). moto itself checks S3 under other action names and
DynamoDB without its resources (docs/iam/README.md), so this is the check of the policies as
AWS reads them.

Prints, per user, the actions its requests used and those its policy grants that none used,
and one line per request the policy would not allow on AWS. Exit 1 when there is one.

usage: iam_audit.py RECORDING KEYS.json NAME=POLICY.json...
  KEYS.json: {"<name>": {"id": "<access key id>", ...}} (what iam_users.py printed)
"""
import base64
import json
import re
import sys
from urllib.parse import parse_qs, unquote, urlsplit

ACCOUNT = "123456789012"  # moto's account, and the one docs/iam/*.json name


def as_list(v):
    return v if isinstance(v, list) else [v]


def glob(pattern, text):
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text) is not None


def allowed(policy, action, resource):
    for st in policy["Statement"]:
        if st.get("Effect") != "Allow" or "Condition" in st or "NotAction" in st:
            sys.exit(f"iam_audit.py: only Allow statements without conditions are read: {st}")
        if any(glob(a, action) for a in as_list(st["Action"])) and any(
                glob(r, resource) for r in as_list(st["Resource"])):
            return True
    return False


def body_of(entry):
    body = entry.get("body") or ""
    return base64.b64decode(body) if entry.get("body_encoded") else body.encode()


def s3_needs(method, path, query, body):
    """The (action, resource) pairs AWS checks for one S3 request, path-style."""
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    arn = f"arn:aws:s3:::{bucket}"
    if not key:
        if method == "POST" and "delete" in query:
            keys = re.findall(rb"<Key>(.*?)</Key>", body)
            return [("s3:DeleteObject", f"{arn}/{k.decode()}") for k in keys]
        if method == "PUT":
            return [("s3:CreateBucket", arn)]
        return [("s3:ListBucket", arn)]  # HEAD (HeadBucket) and GET (ListObjectsV2)
    obj = f"{arn}/{key}"
    if method == "DELETE":
        return [("s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject", obj)]
    if method in ("PUT", "POST"):
        return [("s3:PutObject", obj)]  # also CreateMultipartUpload, UploadPart, Complete...
    return [("s3:GetObject", obj)]


def dynamodb_needs(target, region, body):
    operation = target.split(".")[-1]
    request = json.loads(body or b"{}")
    tables = list(request.get("RequestItems", {})) or [request.get("TableName", "*")]
    return [(f"dynamodb:{operation}", f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{t}")
            for t in tables]


def recorded(text):
    """The entries of a recording. moto writes an entry and its newline in two writes, so a
    request answered at the same time can put its entry in between: the file is read as a
    sequence of JSON values, not as lines."""
    decoder, at = json.JSONDecoder(), 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return
        entry, at = decoder.raw_decode(text, at)
        yield entry


def main():
    recording, keys_file, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(keys_file) as f:
        keys = json.load(f)
    policies, user_of = {}, {}
    for pair in pairs:
        name, path = pair.split("=", 1)
        with open(path) as f:
            policies[name] = json.load(f)
        user_of[keys[name]["id"]] = name
    used = {name: set() for name in policies}
    refused = []
    with open(recording) as f:
        text = f.read()
    for entry in recorded(text):
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        scope = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/",
                          headers.get("authorization", ""))
        if not scope or scope.group(1) not in user_of:
            continue
        name, region, service = user_of[scope.group(1)], scope.group(2), scope.group(3)
        url = urlsplit(entry["url"])
        if service == "s3":
            needs = s3_needs(entry["method"], url.path, parse_qs(url.query, keep_blank_values=True),
                             body_of(entry))
        elif service == "dynamodb":
            needs = dynamodb_needs(headers.get("x-amz-target", ""), region, body_of(entry))
        else:
            continue
        for action, resource in needs:
            used[name].add(action)
            if not allowed(policies[name], action, resource):
                refused.append(f"NOT ALLOWED ON AWS: {name}: {action} on {resource} "
                               f"({entry['method']} {url.path})")
    for name, policy in policies.items():
        granted = {a for st in policy["Statement"] for a in as_list(st["Action"])}
        print(f"{name}: used {', '.join(sorted(used[name])) or 'nothing'}; granted, not used "
              f"here: {', '.join(sorted(granted - used[name])) or 'none'}")
    for line in refused:
        print(line)
    sys.exit(1 if refused else 0)


if __name__ == "__main__":
    main()
