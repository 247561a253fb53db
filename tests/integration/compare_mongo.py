"""Compares two MongoDB collections document by document as canonical Extended JSON
(every BSON type kept): compare_mongo.py URI DB_A DB_B COLLECTION. Prints "equal N" and
exits 0, or prints the first differences and exits 1."""
import sys

from bson import json_util
from pymongo import MongoClient


def docs(client, db, coll):
    opts = json_util.CANONICAL_JSON_OPTIONS
    return {json_util.dumps(d["_id"], json_options=opts): json_util.dumps(d, json_options=opts)
            for d in client[db][coll].find()}


def main():
    uri, db_a, db_b, coll = sys.argv[1:5]
    client = MongoClient(uri)
    a, b = docs(client, db_a, coll), docs(client, db_b, coll)
    bad = [k for k in a if a[k] != b.get(k)] + [k for k in b if k not in a]
    if bad:
        for k in bad[:5]:
            print("differs:", k, "\n  a:", a.get(k, "-")[:400], "\n  b:", b.get(k, "-")[:400])
        print(f"{len(bad)} of {len(a)} documents differ")
        return 1
    print(f"equal {len(a)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
