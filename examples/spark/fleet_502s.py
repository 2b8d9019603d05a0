#!/usr/bin/env python3
"""The report's main tables over every host of a fleet, on Spark.

    spark-submit examples/spark/fleet_502s.py out/                  # print the tables
    spark-submit examples/spark/fleet_502s.py out/ --write tables/   # also write them as Parquet
    spark-submit examples/spark/fleet_502s.py out/ --export-dumps dumps.txt --gatecheck /opt/gatecheck

`out/` holds one folder per host, each written by
`gatecheck export DUMP --to out/HOST/` (Parquet, partitioned date=/hour=).
The queries are the files of sql/ (ANSI SQL over a view named `requests`),
run here as DuckDB and Trino run them. With --export-dumps, a file listing
one dump folder per line (on storage every executor sees), the exports are
made first on the executors, one task per dump, with the gatecheck binary
given (it must exist at that path on every executor).

Runs with `python3 fleet_502s.py …` too (pyspark installed, master local[2]).
"""

import argparse
import functools
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SQL_DIR = os.path.join(HERE, "..", "..", "sql")


def session(master=None):
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName("gatecheck-fleet-502s")
    if master or not os.environ.get("SPARK_HOME"):
        b = b.master(master or "local[2]")
    return (
        b.config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )


def host_dirs(out):
    return sorted(
        os.path.join(out, d)
        for d in os.listdir(out)
        if os.path.isdir(os.path.join(out, d)) and not d.startswith((".", "_"))
    )


def export_on_executors(spark, dumps, gatecheck, out):
    """`gatecheck export` of each dump on an executor, one task per dump."""

    def one(dump):
        host = os.path.basename(os.path.normpath(dump))
        p = subprocess.run(
            [gatecheck, "export", dump, "--to", os.path.join(out, host), "--host", host,
             "--no-progress", "--overwrite"],
            capture_output=True, text=True,
        )
        return dump, p.returncode, p.stderr.strip()

    results = spark.sparkContext.parallelize(dumps, len(dumps)).map(one).collect()
    failed = [r for r in results if r[1] != 0]
    for dump, code, err in failed:
        print("export of %s failed (exit %d): %s" % (dump, code, err), file=sys.stderr)
    return not failed


def requests_view(spark, out):
    """The view `requests`: every host folder under `out`. Each is a table
    partitioned by date=/hour=; Spark discovers partitions below one root
    only, so each is read on its own and the tables are unioned."""
    frames = [spark.read.parquet(d) for d in host_dirs(out)]
    if not frames:
        raise SystemExit("no export under %s (one folder per host expected)" % out)
    df = functools.reduce(lambda a, b: a.unionByName(b), frames)
    df.createOrReplaceTempView("requests")
    return df


def run_sql(spark, out, sql_dir=SQL_DIR):
    """Every sql/*.sql over the exports under `out`: {name: rows}."""
    requests_view(spark, out)
    tables = {}
    for name in sorted(os.listdir(sql_dir)):
        if name.endswith(".sql"):
            with open(os.path.join(sql_dir, name)) as f:
                tables[name[:-4]] = spark.sql(f.read()).collect()
    return tables


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="folder of exports, one sub-folder per host")
    ap.add_argument("--sql", default=SQL_DIR, help="folder of the .sql files (default: sql/)")
    ap.add_argument("--write", help="also write each table as Parquet under this folder")
    ap.add_argument("--export-dumps", help="file listing dump folders to export first, one per line")
    ap.add_argument("--gatecheck", default="gatecheck", help="gatecheck binary on the executors")
    ap.add_argument("--master", help="Spark master (default: local[2] outside spark-submit)")
    a = ap.parse_args()
    spark = session(a.master)
    try:
        if a.export_dumps:
            with open(a.export_dumps) as f:
                dumps = [l.strip() for l in f if l.strip() and not l.startswith("#")]
            if not export_on_executors(spark, dumps, a.gatecheck, a.out):
                return 2
        requests_view(spark, a.out)
        for name in sorted(os.listdir(a.sql)):
            if not name.endswith(".sql"):
                continue
            with open(os.path.join(a.sql, name)) as f:
                table = spark.sql(f.read())
            print("== %s" % name[:-4])
            table.show(50, truncate=False)
            if a.write:
                table.write.mode("overwrite").parquet(os.path.join(a.write, name[:-4]))
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
