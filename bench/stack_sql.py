"""The local stack as the benchmarks see it: stack.env under the environment, the tables
measured, the plain export pipelines, row counts and psql, and the files a backup wrote."""
import gzip
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TABLES = [("mysql", "seats"), ("mysql", "schedules"), ("postgresql", "reservations"),
          ("mongodb", "movies")]
# Sling and dlt read the SQL tables (dlt has no simple MongoDB source).
SQL_TABLES = [(e, t) for e, t in TABLES if e != "mongodb"]


def stack_env():
    env = dict(os.environ)
    with open(os.path.join(ROOT, "stack.env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env.setdefault(k, v.strip().strip('"'))
    env["LOG_FILE"] = ""
    # The stack's servers offer TLS (for the TLS tests); every tool here, ours, the baseline
    # binary (libpq reads PGSSLMODE) and the others, reads loopback in plain text, as they did
    # before, so the cells compare the work, not the ciphers.
    env.setdefault("POSTGRES_SSLMODE", "disable")
    env.setdefault("PGSSLMODE", "disable")
    env.setdefault("MYSQL_SSL_MODE", "DISABLED")
    return env


def manifest_of(store_dir, engine, table):
    base = os.path.join(store_dir, "backups", engine, table)
    runs = sorted(os.listdir(base))
    with open(os.path.join(base, runs[-1], "manifest.json")) as f:
        return json.load(f)


def plain_export(engine, table, env):
    if engine == "mysql":
        return (f"mariadb --quick -N -B -h {env['MYSQL_HOST']} -P {env['MYSQL_PORT']} "
                f"-u {env['MYSQL_USER']} -p{env['MYSQL_PASSWORD']} {env['MYSQL_DATABASE']} "
                f"-e 'SELECT * FROM `{table}`'")
    if engine == "postgresql":
        return (f"PGPASSWORD={env['POSTGRES_PASSWORD']} psql -X -q -h {env['POSTGRES_HOST']} "
                f"-p {env['POSTGRES_PORT']} -U {env['POSTGRES_USER']} -d "
                f"{env['POSTGRES_DATABASE']} -c 'COPY \"{table}\" TO STDOUT'")
    py = os.path.join(ROOT, ".venv", "bin", "python")
    code = ("import sys;from pymongo import MongoClient;from bson import json_util as j;"
            "c=MongoClient(sys.argv[1]);w=sys.stdout.write;o=j.CANONICAL_JSON_OPTIONS\n"
            "for d in c.get_default_database()[sys.argv[2]].find(): w(j.dumps(d,json_options=o)+'\\n')")
    return f"{py} -c \"{code}\" '{env['MONGODB_URI']}' {table}"


def sql_count(engine, table, env):
    """The table's row count, asked of the database (what every tool's output must hold)."""
    if engine == "mysql":
        cmd = (f"mariadb -N -B -h {env['MYSQL_HOST']} -P {env['MYSQL_PORT']} -u {env['MYSQL_USER']} "
               f"-p{env['MYSQL_PASSWORD']} {env['MYSQL_DATABASE']} -e 'SELECT COUNT(*) FROM `{table}`'")
    else:
        cmd = (f"PGPASSWORD={env['POSTGRES_PASSWORD']} psql -X -q -A -t -h {env['POSTGRES_HOST']} "
               f"-p {env['POSTGRES_PORT']} -U {env['POSTGRES_USER']} -d {env['POSTGRES_DATABASE']} "
               f"-c 'SELECT COUNT(*) FROM \"{table}\"'")
    return int(subprocess.run(cmd, shell=True, check=True, env=env, executable="/bin/bash",
                              capture_output=True, text=True).stdout.strip())


def psql(sql, env, script=False):
    """Runs sql (one -c: one transaction; with script, read from stdin: a transaction per
    statement); its output, unaligned and without headers."""
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                           env["POSTGRES_HOST"], "-p", env["POSTGRES_PORT"], "-U",
                           env["POSTGRES_USER"], "-d", env["POSTGRES_DATABASE"]]
                          + ([] if script else ["-c", sql]),
                          input=sql if script else None,
                          env=dict(env, PGPASSWORD=env["POSTGRES_PASSWORD"]), check=True,
                          capture_output=True, text=True).stdout


def psql_on(db, sql, env):
    psql(sql, dict(env, POSTGRES_DATABASE=db))


def gz_lines(paths):
    """Lines in gzip files (JSON Lines: one record each), and their compressed bytes."""
    lines = size = 0
    for path in paths:
        size += os.path.getsize(path)
        with gzip.open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                lines += chunk.count(b"\n")
    return lines, size


def store_parts(store_dir):
    return [os.path.join(d, n) for d, _, names in os.walk(store_dir) for n in names
            if n.endswith(".gz")]
