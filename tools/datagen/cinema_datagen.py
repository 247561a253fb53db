#!/usr/bin/env python3
"""Deterministic generator of the cinema dataset, loaded into the local stack.

  cinema_datagen.py load   --scale N [--mongo-full-types] [--only mysql,postgresql,mongodb]
  cinema_datagen.py counts --scale N

Every value is a pure function of (table, row id, field) through a 64-bit mix, so two runs
give the same bytes and a test can recompute any row. Row counts are closed-form in the
scale factor (see COUNTS below and README.md):

  MySQL cinema_rooms         rooms 10s, seats 1200s, schedules 300s
  PostgreSQL cinema_reservations  users 1000s, reservations 10000s,
                             reserved_seats 25000s, payments 9000s
  MongoDB cinema_movies      genres 16, movies 50s

Connection settings come from the same variables the service reads (MYSQL_*, POSTGRES_*,
MONGODB_URI). The mysql and psql clients load with LOAD DATA LOCAL and COPY; pymongo loads
MongoDB. FerretDB lacks Decimal128; --mongo-full-types adds it for a real MongoDB.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time

MASK = (1 << 64) - 1
BASE = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
BASE_TS = int(BASE.timestamp())
TIE_GROUP = 7  # rows sharing one updated_at: exercises keyset pagination on ties

GENRES = [
    "Acción", "Aventura", "Animación", "Comedia", "Documental", "Drama", "Familia",
    "Fantasía", "Terror", "Misterio", "Romance", "Ciencia ficción", "Suspense", "Musical",
    "Bélico", "Western",
]
ROOM_WORDS = ["Ñandú", "Cóndor", "Colibrí 🐦", "Águila", "Mariposa 🦋", "Jaguar", "Tucán", "Quetzal",
              "Pingüino", "Búho"]
FIRST = ["José", "María", "Zoë", "Søren", "Łukasz", "Chloé", "Renée", "Ángel", "Noël", "Ümit",
         "Ana", "Luis", "Sofía", "Mateo", "Valentina", "Hugo", "李", "Olga", "Aiko", "Nuño"]
LAST = ["García", "Núñez", "Müller", "O'Brien", "Peña", "Gómez", "Ibáñez", "Dvořák", "Smith",
        "Martín", "Løvik", "Rodríguez", "Castaño", "Zúñiga", "王", "Kowalski"]
TITLE_A = ["La noche", "El viaje", "Crónica", "El último", "Sueños", "La ciudad", "Ecos",
           "Mañana", "El jardín", "Destino"]
TITLE_B = ["del cóndor", "sin retorno", "de invierno", "en París", "🚀 interestelar", "perdida",
           "de acero", "bajo cero", "de los niños", "en Ñuñoa"]
LANGS = ["español", "english", "français", "português", "日本語", "deutsch"]
SCREEN_TYPES = ["2D", "3D", "IMAX", "4DX"]
SEAT_TYPES = ["standard", "standard", "standard", "premium", "vip", "accessible"]
LOREM = ("Butacas reclinables, sonido envolvente y una pantalla que ocupa toda la pared. "
         "Accesible para sillas de ruedas; señalización en braille. ¡Palomitas incluidas! 🍿 ")


def mix(*parts):
    """splitmix64 over the parts: a stable 64-bit hash of a tuple of ints."""
    x = 0x9E3779B97F4A7C15
    for p in parts:
        x = (x + (p & MASK) + 0x9E3779B97F4A7C15) & MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
        x ^= x >> 31
    return x


# Table salts, so the same id in two tables gives unrelated values.
T_ROOM, T_SEAT, T_SCHED, T_USER, T_RES, T_RSEAT, T_PAY, T_MOVIE, T_GENRE = range(1, 10)


def pick(seq, *parts):
    return seq[mix(*parts) % len(seq)]


def money(cents):
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def ts_iso(seconds, micros=0):
    t = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(microsecond=micros)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def updated_at(row_id, table):
    """Rows come in groups of TIE_GROUP sharing one timestamp, .250000 past the second."""
    return BASE_TS + 86400 * 30 + (row_id // TIE_GROUP) * 1 + table * 1000000, 250000


def oid_hex(kind, k):
    """A deterministic ObjectId: 4-byte time, then 8 bytes of hash."""
    return f"{0x65000000 + kind * 0x100000 + k:08x}{mix(kind, k, 77):016x}"


def movie_oid(k):
    return oid_hex(T_MOVIE, k)


def genre_oid(k):
    return oid_hex(T_GENRE, k)


# ---------------------------------------------------------------- closed-form shape
def room_rows(room_id):
    return 8 + room_id % 5


SEATS_PER_ROW = 12
SCHEDULES_PER_ROOM = 30


def counts(scale):
    return {
        "mysql": {"rooms": 10 * scale, "seats": 1200 * scale, "schedules": 300 * scale},
        "postgresql": {"users": 1000 * scale, "reservations": 10000 * scale,
                       "reserved_seats": 25000 * scale, "payments": 9000 * scale},
        "mongodb": {"genres": len(GENRES), "movies": 50 * scale},
    }


class Shape:
    """Derived lookups shared by the tables: seat id ranges per room, schedules' rooms."""

    def __init__(self, scale):
        self.scale = scale
        self.rooms = 10 * scale
        self.movies = 50 * scale
        self.first_seat = [0] * (self.rooms + 2)
        nxt = 1
        for r in range(1, self.rooms + 1):
            self.first_seat[r] = nxt
            nxt += room_rows(r) * SEATS_PER_ROW
        self.schedules = self.rooms * SCHEDULES_PER_ROOM

    def schedule_room(self, sid):
        return (sid - 1) // SCHEDULES_PER_ROOM + 1

    def schedule_movie(self, sid):
        return mix(T_SCHED, sid, 1) % self.movies + 1

    def schedule_start(self, sid):
        day = (sid - 1) % SCHEDULES_PER_ROOM
        hour = 12 + mix(T_SCHED, sid, 2) % 11
        minute = (mix(T_SCHED, sid, 3) % 4) * 15
        return BASE_TS + day * 86400 + hour * 3600 + minute * 60


# ---------------------------------------------------------------- text escaping
def mysql_field(v):
    """LOAD DATA default format: tab-separated, backslash escapes, \\N for NULL."""
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "1" if v else "0"
    s = str(v)
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r").replace("\0", "\\0"))


def pg_field(v):
    """COPY text format: tab-separated, backslash escapes, \\N for NULL."""
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (bytes, bytearray)):
        return "\\\\x" + bytes(v).hex()
    if isinstance(v, list):
        items = []
        for e in v:
            if isinstance(e, int):
                items.append(str(e))
            else:
                items.append('"' + str(e).replace("\\", "\\\\").replace('"', '\\"') + '"')
        v = "{" + ",".join(items) + "}"
    s = str(v)
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# ---------------------------------------------------------------- MySQL rows
def room_row(r):
    rows = room_rows(r)
    h = mix(T_ROOM, r)
    features = None if r % 6 == 5 else {
        "sound": pick(["Dolby Atmos", "DTS:X", "Estéreo"], T_ROOM, r, 1),
        "accessible": r % 3 != 0,
        "projector": {"model": f"PX-{r % 9}", "lumens": 20000 + (h % 17) * 1000},
        "tags": ["butacas reclinables", "snack bar"] if r % 2 else [],
    }
    blob = None if r % 4 == 3 else bytes((mix(T_ROOM, r, 10 + i) & 0xFF) for i in range(16 + r % 48))
    notes = None if r % 5 == 2 else (LOREM * (1 + r % 40))[: 200 + (h % 3800)]
    opened = None if r % 9 == 4 else (dt.date(1995, 1, 1) + dt.timedelta(days=h % 10000)).isoformat()
    created = BASE_TS - 86400 * (1 + h % 900)
    u, us = updated_at(r, T_ROOM)
    return [r, f"Sala {r} · {pick(ROOM_WORDS, T_ROOM, r, 2)}", pick(SCREEN_TYPES, T_ROOM, r, 3),
            rows, rows * SEATS_PER_ROW, money(5000 + h % 2000000), r % 7 != 0,
            jdump(features) if features is not None else None, opened,
            blob.hex() if blob is not None else None, notes, ts_iso(created, (h >> 20) % 1000000),
            ts_iso(u, us)]


def seat_rows(shape):
    sid = 0
    for r in range(1, shape.rooms + 1):
        for row in range(room_rows(r)):
            for n in range(1, SEATS_PER_ROW + 1):
                sid += 1
                st = pick(SEAT_TYPES, T_SEAT, sid)
                mod = {"standard": "1.00", "premium": "1.25", "vip": "1.50", "accessible": "0.80"}[st]
                u, us = updated_at(sid, T_SEAT)
                yield [sid, r, chr(ord("A") + row), n, st, mod, st == "accessible", ts_iso(u, us)]


def schedule_row(shape, s):
    start = shape.schedule_start(s)
    h = mix(T_SCHED, s, 4)
    u, us = updated_at(s, T_SCHED)
    return [s, shape.schedule_room(s), movie_oid(shape.schedule_movie(s)), ts_iso(start),
            ts_iso(start + 5400 + (h % 60) * 60), money(450 + h % 1200), pick(LANGS, T_SCHED, s, 5),
            h % 3 == 0, pick(SCREEN_TYPES, T_SCHED, s, 6),
            pick(["scheduled", "scheduled", "completed", "cancelled"], T_SCHED, s, 7),
            ts_iso(start - 86400 * 14, h % 1000000), ts_iso(u, us)]


# ---------------------------------------------------------------- PostgreSQL rows
def pg_ts(seconds, micros=0):
    return ts_iso(seconds, micros) + "+00"


def user_row(u):
    h = mix(T_USER, u)
    first, last = pick(FIRST, T_USER, u, 1), pick(LAST, T_USER, u, 2)
    prefs = {"language": pick(LANGS, T_USER, u, 3), "newsletter": u % 2 == 0,
             "seats": {"row": chr(ord("A") + h % 8), "aisle": u % 3 == 0}, "max_price": (h % 40) + 5}
    score = h % 100000 / 1000.0
    if u % 997 == 0:
        score = "NaN"
    elif u % 991 == 0:
        score = "Infinity"
    elif u % 13 == 0:
        score = None
    avatar = bytes((mix(T_USER, u, 10 + i) & 0xFF) for i in range(8 + u % 24)) if u % 10 == 3 else None
    ua, us = updated_at(u, T_USER)
    return [u, f"user{u}@cine.example", f"{first} {last}",
            None if u % 4 == 0 else f"+34 6{h % 100000000:08d}",
            None if u % 11 == 0 else (dt.date(1950, 1, 1) + dt.timedelta(days=h % 20000)).isoformat(),
            jdump(prefs), [pick(GENRES, T_USER, u, 20 + i) for i in range(u % 4)], u % 17 == 0,
            (h >> 8) % 50000, money((h >> 16) % 10000000 - 100000), score, avatar,
            pg_ts(BASE_TS - 86400 * 400 + u * 60, (h >> 24) % 1000000), pg_ts(ua, us)]


def reservation_seats(shape, r):
    """The seats of reservation r: (seat_id, label, price_cents), distinct, in its schedule's room."""
    s = mix(T_RES, r, 1) % shape.schedules + 1
    room = shape.schedule_room(s)
    n_seats = room_rows(room) * SEATS_PER_ROW
    k = 1 + r % 4
    start = mix(T_RES, r, 2) % (n_seats - k)
    out = []
    for j in range(k):
        off = start + j
        seat_id = shape.first_seat[room] + off
        label = f"{chr(ord('A') + off // SEATS_PER_ROW)}{off % SEATS_PER_ROW + 1}"
        out.append((seat_id, label, 600 + mix(T_RSEAT, r, j) % 900))
    return s, out


def reservation_row(shape, r):
    s, seats = reservation_seats(shape, r)
    h = mix(T_RES, r, 3)
    status = "pending" if r % 10 == 0 else pick(["confirmed"] * 6 + ["cancelled", "refunded"], T_RES, r, 4)
    meta = None if r % 3 == 0 else {"ip": f"10.{h % 256}.{(h >> 8) % 256}.{(h >> 16) % 256}",
                                    "promo": None if r % 5 else "VERANO24", "device": pick(["ios", "android", "web"], T_RES, r, 5)}
    notes = None if r % 8 else pick(["Cumpleaños 🎂", "Silla de ruedas ♿", "Pago en taquilla", "Grupo escolar"], T_RES, r, 6)
    created = shape.schedule_start(s) - 3600 * (1 + h % 300)
    u, us = updated_at(r, T_RES)
    return [r, mix(T_RES, r, 7) % (1000 * shape.scale) + 1, s, movie_oid(shape.schedule_movie(s)), status,
            money(sum(c for _, _, c in seats)), len(seats), pick(["web", "app", "taquilla", "kiosko"], T_RES, r, 8),
            notes, jdump(meta) if meta is not None else None, [sid for sid, _, _ in seats],
            ts_iso(shape.schedule_start(s)), pg_ts(created, h % 1000000), pg_ts(u, us)]


def reserved_seat_rows(shape, r, next_id):
    _, seats = reservation_seats(shape, r)
    out = []
    for seat_id, label, cents in seats:
        u, us = updated_at(next_id, T_RSEAT)
        out.append([next_id, r, seat_id, label, money(cents), pg_ts(u, us)])
        next_id += 1
    return out


def payment_row(shape, r, pid):
    _, seats = reservation_seats(shape, r)
    total = sum(c for _, _, c in seats)
    h = mix(T_PAY, r)
    method = pick(["card", "card", "card", "paypal", "cash", "gift_card"], T_PAY, r, 1)
    paid = None if r % 10 == 9 else BASE_TS + (h % (86400 * 60))
    resp = None if method == "cash" else {"code": "00", "auth": f"{h % 1000000:06d}",
                                          "risk": round((h % 1000) / 1000, 3), "3ds": r % 2 == 0}
    u, us = updated_at(pid, T_PAY)
    return [pid, r, f"{total // 100}.{total % 100:02d}{(h >> 8) % 100:02d}",
            pick(["EUR", "USD", "COP", "MXN"], T_PAY, r, 2), method,
            pg_ts(paid, (h >> 12) % 1000000) if paid is not None else None,
            f"{(h >> 20) % 10000:04d}" if method == "card" else None,
            jdump(resp) if resp is not None else None, r % 23 == 0, pg_ts(u, us)]


# ---------------------------------------------------------------- MongoDB documents
def genre_doc(g):
    from bson import ObjectId
    name = GENRES[g - 1]
    u, _ = updated_at(g, T_GENRE)
    return {"_id": ObjectId(genre_oid(g)), "name": name, "slug": name.lower().replace(" ", "-"),
            "description": f"Películas de {name.lower()}.", "popularity": (mix(T_GENRE, g) % 1000) / 10.0,
            "updated_at": dt.datetime.fromtimestamp(u, tz=dt.timezone.utc)}


def movie_doc(k, full_types):
    from bson import Binary, Decimal128, Int64, ObjectId
    h = mix(T_MOVIE, k)
    gids = sorted({mix(T_MOVIE, k, 10 + i) % len(GENRES) + 1 for i in range(1 + k % 3)})
    release = dt.datetime(1950, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=h % 27000)
    if k % 9 == 0:  # some films before 1970: negative BSON dates
        release = dt.datetime(1925 + k % 40, 1 + k % 12, 1 + k % 28, tzinfo=dt.timezone.utc)
    u, us = updated_at(k, T_MOVIE)
    doc = {
        "_id": ObjectId(movie_oid(k)),
        "title": f"{pick(TITLE_A, T_MOVIE, k, 1)} {pick(TITLE_B, T_MOVIE, k, 2)} {k}",
        "release_date": release,
        "duration_minutes": 80 + h % 100,                        # Int32
        "budget": Int64(1_000_000 + (h >> 8) % 300_000_000_000),  # Int64, past 2^31
        "rating": round(1 + (h % 900) / 100.0, 2),               # Double
        "votes": (h >> 4) % 2_000_000,
        "genre_ids": [ObjectId(genre_oid(g)) for g in gids],
        "genres": [GENRES[g - 1] for g in gids],
        "cast": [{"name": f"{pick(FIRST, T_MOVIE, k, 30 + i)} {pick(LAST, T_MOVIE, k, 40 + i)}",
                  "character": pick(["Héroe", "Villana", "Narrador", "La madre", "El detective"], T_MOVIE, k, 50 + i),
                  "order": i} for i in range(2 + k % 4)],
        "director": {"name": f"{pick(FIRST, T_MOVIE, k, 3)} {pick(LAST, T_MOVIE, k, 4)}",
                     "country": pick(["ES", "MX", "AR", "CO", "FR", "JP"], T_MOVIE, k, 5)},
        "languages": [pick(LANGS, T_MOVIE, k, 6)],
        "is_3d": k % 4 == 0,
        "metadata": {"imdb_id": f"tt{h % 10000000:07d}",
                     "tmdb": {"id": Int64(k * 1000 + 7), "popularity": (h % 100000) / 100.0}},
        "updated_at": dt.datetime.fromtimestamp(u, tz=dt.timezone.utc).replace(microsecond=us // 1000 * 1000),
    }
    if k % 5 == 1:
        doc["tagline"] = None                      # present but null
    elif k % 5 != 0:                               # k % 5 == 0: the field is missing
        doc["tagline"] = pick(["Nada volverá a ser igual.", "Basada en hechos reales 🎞️", "¿Quién vigila?"], T_MOVIE, k, 7)
    if k % 3 == 0:
        doc["poster"] = Binary(bytes((mix(T_MOVIE, k, 60 + i) & 0xFF) for i in range(32)), 0)
    if full_types:
        doc["box_office"] = Decimal128(f"{(h >> 12) % 10**9}.{h % 100:02d}")
    return doc


# ---------------------------------------------------------------- loaders
def env(name, default):
    return os.environ.get(name, default)


def mysql_cmd(database=None):
    cmd = ["mariadb", "--protocol=tcp", "-h", env("MYSQL_HOST", "127.0.0.1"), "-P", env("MYSQL_PORT", "3306"),
           "-u", env("MYSQL_USER", "root"), "--local-infile=1", "--default-character-set=utf8mb4"]
    if database:
        cmd.append(database)
    return cmd


def mysql_env():
    e = dict(os.environ)
    e["MYSQL_PWD"] = env("MYSQL_PASSWORD", "")
    return e


def run_mysql(sql, database=None):
    subprocess.run(mysql_cmd(database) + ["-e", sql], check=True, env=mysql_env())


def mysql_load(table, columns, rows, database, set_clause=""):
    sql = (f"SET time_zone='+00:00'; SET foreign_key_checks=0; SET unique_checks=0; "
           f"LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE {table} CHARACTER SET utf8mb4 "
           f"({columns}) {set_clause}")
    p = subprocess.Popen(mysql_cmd(database) + ["-e", sql], stdin=subprocess.PIPE, env=mysql_env())
    write_rows(p, rows, mysql_field)


def write_rows(p, rows, fmt):
    buf = []
    for row in rows:
        buf.append("\t".join(fmt(v) for v in row))
        if len(buf) >= 5000:
            p.stdin.write(("\n".join(buf) + "\n").encode())
            buf.clear()
    if buf:
        p.stdin.write(("\n".join(buf) + "\n").encode())
    p.stdin.close()
    if p.wait() != 0:
        raise SystemExit(f"datagen: loader {p.args[0]} failed with exit code {p.returncode}")


def load_mysql(shape):
    db = env("MYSQL_DATABASE", "cinema_rooms")
    here = os.path.dirname(os.path.abspath(__file__))
    run_mysql(f"DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    with open(os.path.join(here, "mysql_schema.sql"), encoding="utf-8") as f:
        subprocess.run(mysql_cmd(db), input=f.read().encode(), check=True, env=mysql_env())
    mysql_load("rooms", "id,name,screen_type,seat_rows,capacity,hourly_rate,is_active,features,opened_on,"
               "@floor_plan,notes,created_at,updated_at",
               (room_row(r) for r in range(1, shape.rooms + 1)), db,
               "SET floor_plan = UNHEX(@floor_plan)")
    mysql_load("seats", "id,room_id,seat_row,seat_number,seat_type,price_modifier,is_accessible,updated_at",
               seat_rows(shape), db)
    mysql_load("schedules", "id,room_id,movie_id,starts_at,ends_at,base_price,language,subtitles,format,status,"
               "created_at,updated_at", (schedule_row(shape, s) for s in range(1, shape.schedules + 1)), db)


def psql_cmd(database):
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", env("POSTGRES_HOST", "127.0.0.1"),
            "-p", env("POSTGRES_PORT", "5432"), "-U", env("POSTGRES_USER", "postgres"), "-d", database]


def pg_env():
    e = dict(os.environ)
    e["PGPASSWORD"] = env("POSTGRES_PASSWORD", "")
    e["PGTZ"] = "UTC"
    e["PGOPTIONS"] = "-c client_min_messages=warning"
    return e


def pg_load(table, rows, database):
    p = subprocess.Popen(psql_cmd(database) + ["-c", f"COPY {table} FROM STDIN"], stdin=subprocess.PIPE, env=pg_env())
    write_rows(p, rows, pg_field)


def load_postgresql(shape):
    db = env("POSTGRES_DATABASE", "cinema_reservations")
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run(psql_cmd("postgres") + ["-c", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'], check=True, env=pg_env())
    subprocess.run(psql_cmd("postgres") + ["-c", f"CREATE DATABASE \"{db}\" ENCODING 'UTF8' TEMPLATE template0"],
                   check=True, env=pg_env())
    subprocess.run(psql_cmd(db) + ["-f", os.path.join(here, "postgresql_schema.sql")], check=True, env=pg_env())
    n_res = 10000 * shape.scale
    pg_load("users", (user_row(u) for u in range(1, 1000 * shape.scale + 1)), db)
    pg_load("reservations", (reservation_row(shape, r) for r in range(1, n_res + 1)), db)

    def rseats():
        nid = 1
        for r in range(1, n_res + 1):
            rows = reserved_seat_rows(shape, r, nid)
            nid += len(rows)
            yield from rows

    pg_load("reserved_seats", rseats(), db)

    def pays():
        pid = 0
        for r in range(1, n_res + 1):
            if r % 10 == 0:
                continue  # pending reservations have no payment yet
            pid += 1
            yield payment_row(shape, r, pid)

    pg_load("payments", pays(), db)
    subprocess.run(psql_cmd(db) + ["-f", os.path.join(here, "postgresql_constraints.sql")], check=True, env=pg_env())


def load_mongodb(shape, full_types):
    import pymongo
    uri = env("MONGODB_URI", "mongodb://127.0.0.1:27017/cinema_movies")
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000, tz_aware=True)
    db = client.get_default_database(default="cinema_movies")
    client.drop_database(db.name)
    db.genres.insert_many([genre_doc(g) for g in range(1, len(GENRES) + 1)], ordered=True)
    batch = []
    for k in range(1, shape.movies + 1):
        batch.append(movie_doc(k, full_types))
        if len(batch) == 1000:
            db.movies.insert_many(batch, ordered=True)
            batch = []
    if batch:
        db.movies.insert_many(batch, ordered=True)


# ---------------------------------------------------------------- expected values
# The kind of each column as the service's plain JSON Lines encode it (docs/formats.md).
KINDS = {
    "rooms": "int str str int int dec bool json date blob str ts ts",
    "seats": "int int str int str dec bool ts",
    "schedules": "int int str ts ts dec str bool str str ts ts",
    "users": "int str str str date json arr bool int dec dbl blob tstz tstz",
    "reservations": "int int int str str dec int str str json arr ts tstz tstz",
    "reserved_seats": "int int int str dec tstz",
    "payments": "int int dec str str tstz str json bool tstz",
}
COLUMNS = {
    "rooms": "id name screen_type seat_rows capacity hourly_rate is_active features opened_on floor_plan notes created_at updated_at",
    "seats": "id room_id seat_row seat_number seat_type price_modifier is_accessible updated_at",
    "schedules": "id room_id movie_id starts_at ends_at base_price language subtitles format status created_at updated_at",
    "users": "id email full_name phone birth_date preferences favorite_genres is_vip loyalty_points balance engagement_score avatar created_at updated_at",
    "reservations": "id user_id schedule_id movie_id status total_amount seat_count booking_channel notes metadata seat_numbers show_time created_at updated_at",
    "reserved_seats": "id reservation_id seat_id seat_label price updated_at",
    "payments": "id reservation_id amount currency method paid_at card_last4 gateway_response refunded updated_at",
}


def plain(kind, v):
    import base64
    if v is None:
        return None
    if kind == "json":
        return json.loads(v)
    if kind == "blob":
        raw = bytes.fromhex(v) if isinstance(v, str) else v
        return base64.b64encode(raw).decode()
    if kind in ("ts", "tstz"):
        return v.replace(" ", "T")[:26] + "Z"
    if kind == "dbl":
        return v if isinstance(v, str) else float(v)
    return v


def expected_row(scale, table, row_id):
    shape = Shape(scale)
    if table == "rooms":
        row = room_row(row_id)
    elif table == "seats":
        row = next(r for r in seat_rows(shape) if r[0] == row_id)
    elif table == "schedules":
        row = schedule_row(shape, row_id)
    elif table == "users":
        row = user_row(row_id)
    elif table == "reservations":
        row = reservation_row(shape, row_id)
    elif table == "reserved_seats":
        nid = 1
        for r in range(1, 10000 * scale + 1):
            rows = reserved_seat_rows(shape, r, nid)
            nid += len(rows)
            hit = [x for x in rows if x[0] == row_id]
            if hit:
                row = hit[0]
                break
    elif table == "payments":
        pid = 0
        for r in range(1, 10000 * scale + 1):
            if r % 10:
                pid += 1
                if pid == row_id:
                    row = payment_row(shape, r, pid)
                    break
    else:
        from bson import json_util
        doc = genre_doc(row_id) if table == "genres" else movie_doc(row_id, False)
        return json.loads(json_util.dumps(doc, json_options=json_util.CANONICAL_JSON_OPTIONS))
    return {c: plain(k, v) for c, k, v in zip(COLUMNS[table].split(), KINDS[table].split(), row)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["load", "counts", "expect"])
    ap.add_argument("--table", help="expect: the table or collection")
    ap.add_argument("--ids", default="1", help="expect: comma-separated row ids (movies: k)")
    ap.add_argument("--scale", type=int, default=1, help="scale factor, a whole number >= 1 (default 1)")
    ap.add_argument("--only", default="mysql,postgresql,mongodb", help="engines to load, comma-separated")
    ap.add_argument("--mongo-full-types", action="store_true",
                    help="add Decimal128 values that FerretDB cannot store (for a real MongoDB)")
    a = ap.parse_args()
    if a.scale < 1:
        ap.error("--scale must be a whole number >= 1")
    if a.command == "counts":
        print(json.dumps(counts(a.scale), indent=2))
        return
    if a.command == "expect":
        out = {i: expected_row(a.scale, a.table, int(i)) for i in a.ids.split(",")}
        print(json.dumps(out, ensure_ascii=False))
        return
    shape = Shape(a.scale)
    engines = [e.strip() for e in a.only.split(",") if e.strip()]
    for e in engines:
        if e not in ("mysql", "postgresql", "mongodb"):
            ap.error(f"--only: unknown engine '{e}'; expected mysql, postgresql or mongodb")
    for e in engines:
        t0 = time.time()
        {"mysql": lambda: load_mysql(shape), "postgresql": lambda: load_postgresql(shape),
         "mongodb": lambda: load_mongodb(shape, a.mongo_full_types)}[e]()
        print(f"[seed] {e}: {counts(a.scale)[e]} in {time.time() - t0:.1f}s", flush=True)


if __name__ == "__main__":
    main()
