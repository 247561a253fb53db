"""Independent check of a migration: reads the DynamoDB tables through boto3 and compares
them with the source databases (psql, pymongo). Prints OK or the mismatches; exit 1 on any.

usage: check_migration.py ENDPOINT MOVIES ROOMS RESERVATIONS USERS
Database settings come from the environment (stack.env).
"""
import os
import subprocess
import sys
from decimal import Decimal

import boto3
import pymongo

endpoint, t_movies, t_rooms, t_res, t_users = sys.argv[1:6]
ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


def scan_all(table):
    items, kw = [], {}
    while True:
        page = ddb.scan(TableName=table, **kw)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def psql(sql):
    env = dict(os.environ, PGPASSWORD=os.environ.get("POSTGRES_PASSWORD", ""), PGTZ="UTC")
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-h", os.environ["POSTGRES_HOST"], "-p",
                          os.environ["POSTGRES_PORT"], "-U", os.environ["POSTGRES_USER"], "-d",
                          os.environ["POSTGRES_DATABASE"], "-c", sql], capture_output=True, text=True,
                         env=env, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


scale = int(os.environ.get("CINEMA_SCALE", "1"))
res = {int(i["reservation_id"]["N"]): i for i in scan_all(t_res)}
users = {int(i["user_id"]["N"]): i for i in scan_all(t_users)}
rooms = {int(i["room_id"]["N"]): i for i in scan_all(t_rooms)}
movies = {i["movie_id"]["S"]: i for i in scan_all(t_movies)}
check(len(res) == 10000 * scale, f"reservations: {len(res)} items")
check(len(users) == 1000 * scale, f"users: {len(users)} items")
check(len(rooms) == 10 * scale, f"rooms: {len(rooms)} items")
check(len(movies) == 50 * scale, f"movies: {len(movies)} items")

# Reservations: values, embedded seats and payment, against PostgreSQL.
for rid in (1, 2, 3, 10, 15, 40):
    it = res[rid]
    row = psql(f"SELECT user_id, movie_id, status, total_amount, to_char(created_at, "
               f"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), array_to_json(seat_numbers) FROM reservations WHERE id = {rid}")[0]
    check(it["user_id"] == {"N": row[0]}, f"reservation {rid} user_id {it['user_id']} != {row[0]}")
    check(it["movie_id"] == {"S": row[1]}, f"reservation {rid} movie_id")
    check(it["status"] == {"S": row[2]}, f"reservation {rid} status")
    check(Decimal(it["total_amount"]["N"]) == Decimal(row[3]), f"reservation {rid} total {it['total_amount']} != {row[3]}")
    check(it["created_at"] == {"S": row[4]}, f"reservation {rid} created_at {it['created_at']} != {row[4]}")
    check([int(x["N"]) for x in it["seat_numbers"]["L"]] == eval(row[5]), f"reservation {rid} seat_numbers")
    seats = psql(f"SELECT id, seat_id, price FROM reserved_seats WHERE reservation_id = {rid} ORDER BY id")
    got = sorted((int(s["M"]["id"]["N"]), int(s["M"]["seat_id"]["N"]), Decimal(s["M"]["price"]["N"])) for s in it["seats"]["L"])
    check(got == [(int(a), int(b), Decimal(c)) for a, b, c in seats], f"reservation {rid} seats {got} != {seats}")
    pay = psql(f"SELECT amount, method FROM payments WHERE reservation_id = {rid}")
    if pay:
        check(Decimal(it["payment"]["M"]["amount"]["N"]) == Decimal(pay[0][0]), f"reservation {rid} payment amount")
        check(it["payment"]["M"]["method"] == {"S": pay[0][1]}, f"reservation {rid} payment method")
    else:
        check(it["payment"] == {"NULL": True}, f"reservation {rid} should have no payment: {it['payment']}")
    meta = psql(f"SELECT metadata IS NULL FROM reservations WHERE id = {rid}")[0][0]
    check(("NULL" in it["metadata"]) == (meta == "t"), f"reservation {rid} metadata null-ness")
    if meta == "f":
        check("M" in it["metadata"], f"reservation {rid} metadata is a map: {it['metadata']}")

# The indexes answer.
q = ddb.query(TableName=t_users, IndexName="email-index", KeyConditionExpression="email = :e",
              ExpressionAttributeValues={":e": {"S": "user1@cine.example"}})
check(q["Count"] == 1 and q["Items"][0]["user_id"] == {"N": "1"}, f"email-index: {q['Items']}")
n_user1 = int(psql("SELECT count(*) FROM reservations WHERE user_id = 1")[0][0])
q = ddb.query(TableName=t_res, IndexName="user_id-index", KeyConditionExpression="user_id = :u",
              ExpressionAttributeValues={":u": {"N": "1"}})
check(q["Count"] == n_user1, f"user_id-index: {q['Count']} != {n_user1}")

# Users: types.
u = users[997]
check(u["engagement_score"] == {"S": "NaN"}, f"user 997 NaN: {u['engagement_score']}")
check("B" in users[3]["avatar"], f"user 3 avatar is binary: {users[3]['avatar']}")
check("L" in users[1]["favorite_genres"], "user favorite_genres is a list")
check("M" in users[1]["preferences"], "user preferences is a map")

# Rooms: seat counts by type add up to the capacity.
for rid, it in rooms.items():
    total = sum(int(v["N"]) for v in it["seat_counts"]["M"].values())
    check(total == int(it["capacity"]["N"]) == int(it["total_seats"]["N"]), f"room {rid} seat counts")

# Movies: genre names from the genres collection; first genre drives genre-index.
db = pymongo.MongoClient(os.environ["MONGODB_URI"]).get_default_database()
names = {g["_id"]: g["name"] for g in db.genres.find()}
for m in db.movies.find():
    it = movies[str(m["_id"])]
    want = [names[g] for g in m["genre_ids"]]
    check([x["S"] for x in it["genre_names"]["L"]] == want, f"movie {m['_id']} genre_names")
    check(it["genre"] == {"S": want[0]}, f"movie {m['_id']} genre")
    check(it["budget"] == {"N": str(m["budget"])}, f"movie {m['_id']} budget")
    check(("tagline" in it) == ("tagline" in m), f"movie {m['_id']} tagline presence")
    if "poster" in m:
        check(it["poster"]["B"] == bytes(m["poster"]), f"movie {m['_id']} poster")
g0 = next(iter(names.values()))
q = ddb.query(TableName=t_movies, IndexName="genre-index", KeyConditionExpression="genre = :g",
              ExpressionAttributeValues={":g": {"S": g0}})
want = sum(1 for m in db.movies.find() if names[m["genre_ids"][0]] == g0)
check(q["Count"] == want, f"genre-index {g0}: {q['Count']} != {want}")

print("OK" if not errors else "\n".join(errors[:30]))
sys.exit(1 if errors else 0)
