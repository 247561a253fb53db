"""One table through dlt, for bench/run_bench.py's comparison: the `sql_database` source's
`sql_table` (SQLAlchemy backend, dlt's default) into the `filesystem` destination as JSON
Lines under a local folder. dlt gzips its jsonl files by default (data_writer
disable_compression is false): the files are <out>/<dataset>/<table>/*.jsonl.gz.

Usage: dlt_export.py SQLALCHEMY_URL TABLE OUT_DIR WORK_DIR
  SQLALCHEMY_URL  e.g. postgresql+psycopg2://user:pw@host:port/db, mysql+pymysql://...
  OUT_DIR         the destination folder (bucket_url file://OUT_DIR), dataset `bench`
  WORK_DIR        dlt's pipelines folder (its state and the load packages before loading)
Prints `rows: N` (the rows dlt says it normalized for TABLE) on success.
"""
import os
import sys

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt  # noqa: E402
from dlt.sources.sql_database import sql_table  # noqa: E402


def main():
    url, table, out_dir, work_dir = sys.argv[1:5]
    pipeline = dlt.pipeline(pipeline_name=f"bench_{table}", pipelines_dir=work_dir,
                            destination=dlt.destinations.filesystem(bucket_url="file://" + out_dir),
                            dataset_name="bench")
    info = pipeline.run(sql_table(credentials=url, table=table), loader_file_format="jsonl",
                        write_disposition="replace")
    info.raise_on_failed_jobs()
    counts = pipeline.last_trace.last_normalize_info.row_counts
    print(f"rows: {counts.get(table, 0)}")


if __name__ == "__main__":
    main()
