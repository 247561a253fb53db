"""Independent check of a backup's recorded snapshot position. PostgreSQL: the changes a
logical slot made before the backup saw (test_decoding) are split at the manifest's LSN.
MariaDB: the binlog from the manifest's file and offset on (mariadb-binlog, rows decoded).
The transactions that committed after the position, replayed on the backup's rows, must give
the live table exactly, and none of them may be in the backup already (inserts after it are
absent). Prints OK and the counts, or what differs; exit 1 on any.

usage: check_snapshot_position.py ENDPOINT BUCKET MANIFEST_KEY TABLE SLOT
(SLOT: PostgreSQL only; "-" for MariaDB.) Database settings come from the environment
(stack.env). The table is (id, name, n, ...).
"""
import gzip
import json
import os
import re
import subprocess
import sys

import boto3

endpoint, bucket, manifest_key, table, slot = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")


def lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def psql(sql):
    env = dict(os.environ, PGPASSWORD=os.environ.get("POSTGRES_PASSWORD", ""))
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-h", os.environ["POSTGRES_HOST"],
                          "-p", os.environ["POSTGRES_PORT"], "-U", os.environ["POSTGRES_USER"],
                          "-d", os.environ["POSTGRES_DATABASE"], "-c", sql],
                         capture_output=True, text=True, env=env, check=True)
    return [l.split("\t") for l in out.stdout.splitlines() if l]


def mariadb_changes(file, offset):
    """The row changes of `table` in the binlog from file:offset on, one list a transaction."""
    cmd = ["mariadb-binlog", "--read-from-remote-server", "--to-last-log", "-h",
           os.environ["MYSQL_HOST"], "-P", os.environ["MYSQL_PORT"], "-u", os.environ["MYSQL_USER"],
           f"-p{os.environ.get('MYSQL_PASSWORD', '')}", f"--start-position={offset}", "-v",
           "--base64-output=DECODE-ROWS", file]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    txns, current, change, part = [], [], None, None
    name = f"`{os.environ['MYSQL_DATABASE']}`.`{table}`"
    for line in out.splitlines():
        if line.startswith("COMMIT"):  # a transaction's end (its XID event)
            if current:
                txns.append((1, current))
            current, change = [], None
        if not line.startswith("### "):
            continue
        body = line[4:]
        for op in ("INSERT INTO ", "UPDATE ", "DELETE FROM "):
            if body.startswith(op):
                change = (op.split()[0], {}) if body[len(op):] == name else None
                if change:
                    current.append(change)
                part = None
        if body in ("SET", "WHERE"):
            part = body
        elif body.startswith("  @") and change is not None:
            k, _, v = body.strip().partition("=")
            if change[0] == "DELETE" or part == "SET":
                change[1][{"@1": "id", "@2": "name", "@3": "n"}.get(k, k)] = v.strip("'")
    return txns


manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
snapshot = manifest.get("snapshot") or {}
engine = snapshot.get("engine")
if engine == "mysql" and snapshot.get("file") and snapshot.get("position"):
    at = 1
elif engine == "postgresql" and "/" in snapshot.get("position", ""):
    at = lsn(snapshot["position"])
else:
    print(f"the manifest records no snapshot position: {snapshot!r}")
    sys.exit(1)
rows = {}
for part in manifest["parts"]:
    body = s3.get_object(Bucket=bucket, Key=part["key"])["Body"].read()
    for line in gzip.decompress(body).decode().splitlines():
        r = json.loads(line)
        rows[r["id"]] = (r["name"], r["n"])
in_backup = dict(rows)

field = re.compile(r"(\w+)\[[^\]]*\]:('(?:[^']|'')*'|\S+)")
txns, current = [], []
if engine == "mysql":  # only what follows the position: every one of them is after it
    txns = mariadb_changes(snapshot["file"], snapshot["offset"])
for change_lsn, _, data in (psql(f"SELECT lsn, xid, data FROM "
                                 f"pg_logical_slot_peek_changes('{slot}', NULL, NULL)")
                            if engine == "postgresql" else []):
    if data.startswith("BEGIN"):
        current = []
    elif data.startswith("COMMIT"):
        txns.append((lsn(change_lsn), current))
    elif data.startswith(f"table public.{table}: "):
        op, _, rest = data[len(f"table public.{table}: "):].partition(": ")
        values = {k: v.strip("'") for k, v in field.findall(rest)}
        current.append((op, values))

after = [t for t in txns if t[0] >= at]
errors = []
for _, changes in after:
    for op, v in changes:
        key = int(v["id"])
        if op == "INSERT" and key in in_backup:
            errors.append(f"id {key}: inserted after the snapshot position, yet in the backup")
        if op == "DELETE":
            rows.pop(key, None)
        else:
            rows[key] = (v["name"], int(v["n"]))
def mariadb(sql):
    out = subprocess.run(["mariadb", "-N", "-B", "-h", os.environ["MYSQL_HOST"], "-P",
                          os.environ["MYSQL_PORT"], "-u", os.environ["MYSQL_USER"],
                          f"-p{os.environ.get('MYSQL_PASSWORD', '')}", os.environ["MYSQL_DATABASE"],
                          "-e", sql], capture_output=True, text=True, check=True).stdout
    return [l.split("\t") for l in out.splitlines() if l]


query = psql if engine == "postgresql" else mariadb
live = {int(i): (name, int(n)) for i, name, n in query(f"SELECT id, name, n FROM {table}")}
for k in sorted(set(live) | set(rows)):
    if live.get(k) != rows.get(k):
        errors.append(f"id {k}: live {live.get(k)!r}, backup + changes after {rows.get(k)!r}")
if not after or (engine == "postgresql" and len(after) == len(txns)):
    errors.append(f"the writers' {len(txns)} transactions are not split by the position "
                  f"({len(after)} after it): the test proves nothing")
if errors:
    print("\n".join(errors[:20]))
    sys.exit(1)
print(f"OK {len(txns) - len(after)} transactions before the position, {len(after)} after")
