"""Independent check of a MongoDB backup's recorded snapshot position (an oplog time).

FerretDB's reads are not isolated, so a position is right when replaying the oplog from it
converges: the collection's entries in local.oplog.rs after the manifest's position, applied
in order to the backup's documents (insert and update: the whole document; delete: by _id),
must give the live collection exactly. The position must also be no earlier than BEFORE, the
server's clock when the migrate started (to the second: both are the server's clock), and
the writers' entries must fall on both
sides of it (else the test proves nothing). Prints OK and the counts, or what differs; exit 1.

usage: check_mongo_snapshot.py ENDPOINT BUCKET MANIFEST_KEY COLLECTION BEFORE
(BEFORE: "<seconds>:<increment>"). MONGODB_URI comes from the environment (stack.env).
"""
import gzip
import json
import os
import sys

import boto3
import pymongo
from bson import json_util
from bson.timestamp import Timestamp

endpoint, bucket, manifest_key, coll, before = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
client = pymongo.MongoClient(os.environ["MONGODB_URI"])
db = client.get_default_database()


def ts(text):
    t, i = text.split(":")
    return Timestamp(int(t), int(i))


manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
snapshot = manifest.get("snapshot") or {}
if snapshot.get("engine") != "mongodb" or ":" not in snapshot.get("position", ""):
    print(f"the manifest records no oplog position: {snapshot!r}")
    sys.exit(1)
at = ts(snapshot["position"])
errors = []
if at.time < ts(before).time:  # the position is a second of the server's clock
    errors.append(f"position {snapshot['position']} is before the oplog's last time {before} "
                  "when the migrate started")
docs = {}
for part in manifest["parts"]:
    body = s3.get_object(Bucket=bucket, Key=part["key"])["Body"].read()
    for line in gzip.decompress(body).decode().splitlines():
        d = json_util.loads(line)
        docs[d["_id"]] = d
ns = f"{db.name}.{coll}"
entries = list(client.local["oplog.rs"].find({"ns": ns}).sort("$natural", 1))
after = [e for e in entries if e["ts"] > at]
for e in after:
    o = e["o"]
    if e["op"] == "d":
        docs.pop(o["_id"], None)
    elif e["op"] == "u":
        doc = o.get("$set", o)
        docs[doc["_id"]] = doc
    elif e["op"] == "i":
        docs[o["_id"]] = o
live = {d["_id"]: d for d in db[coll].find()}
for k in sorted(set(live) | set(docs)):
    if live.get(k) != docs.get(k):
        errors.append(f"_id {k}: live {live.get(k)!r}, backup + oplog after {docs.get(k)!r}")
if not after or len(after) == len(entries):
    errors.append(f"the writers' {len(entries)} oplog entries are not split by the position "
                  f"({len(after)} after it): the test proves nothing")
if errors:
    print("\n".join(errors[:20]))
    sys.exit(1)
print(f"OK {len(entries) - len(after)} oplog entries before the position, {len(after)} after")
