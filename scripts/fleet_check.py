#!/usr/bin/env python3
"""Same numbers everywhere: export several dumps with `gatecheck export`, run
sql/*.sql over all the exports at once on DuckDB (or Spark), and compare each
table with the sum of `gatecheck analyze --format json` over the dumps.
Exits 1 on any mismatch (CI runs it from .ci/run).

    scripts/fleet_check.py --gatecheck target/debug/gatecheck [--engine duckdb|spark] [DUMP...]

Without DUMPs: the demo (fixtures/incident), the two-hop chain
(fixtures/logs/chain: nginx in front of HAProxy) and two generated nginx
dumps (written here, deterministic). Needs the Python package `duckdb`
(or `pyspark` and a JRE for --engine spark).
"""

import argparse
import collections
import datetime
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SQL = os.path.join(ROOT, "sql")
UTC = datetime.timezone.utc


def generate(dump, seed, start, offset_min, n):
    """An nginx dump: the demo's nginx.conf (log_format upstreamlog) and an
    access log of `n` requests from `start` (UTC) over 40 minutes, local time
    at `offset_min` east of UTC, with retries, passthrough 502s, refused and
    no-live-upstream 502s, 504s and rescued requests."""
    rnd = random.Random(seed)
    os.makedirs(dump, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "fixtures/incident/nginx.conf"), dump)
    tz = datetime.timezone(datetime.timedelta(minutes=offset_min))
    servers = ["10.1.0.%d:8080" % i for i in range(1, 5)]
    lines = []
    for i in range(n):
        t = start + datetime.timedelta(seconds=i * 2400 / n)
        stamp = t.astimezone(tz).strftime("%d/%b/%Y:%H:%M:%S %z")
        a, b = rnd.sample(servers, 2)
        r = rnd.random()
        if r < 0.80:
            status, ua, us, uct, uht, urt = 200, a, "200", "0.001", "0.010", "0.012"
        elif r < 0.86:  # the app answered 502
            status, ua, us, uct, uht, urt = 502, a, "502", "0.001", "0.020", "0.020"
        elif r < 0.90:  # refused by two servers
            status, ua, us, uct, uht, urt = 502, a + ", " + b, "502, 502", "-, -", "-, -", "0.000, 0.001"
        elif r < 0.92:  # no live upstreams
            status, ua, us, uct, uht, urt = 502, "backend", "502", "-", "-", "0.000"
        elif r < 0.95:  # read timeout
            status, ua, us, uct, uht, urt = 504, a, "504", "0.001", "-", "30.001"
        else:  # rescued by the retry
            status, ua, us, uct, uht, urt = 200, a + ", " + b, "502, 200", "-, 0.001", "-, 0.010", "0.000, 0.011"
        path = rnd.choice(["/api/cart", "/api/orders/%d" % rnd.randint(1000, 9999), "/", "/p/x"])
        lines.append(
            '10.9.%d.%d - - [%s] "GET %s HTTP/1.1" %d 12 "-" "gen" rt=%s uct="%s" uht="%s" urt="%s" ua="%s" us="%s"'
            % (rnd.randint(0, 9), rnd.randint(1, 250), stamp, path, status, urt.split(", ")[-1], uct, uht, urt, ua, us)
        )
    with open(os.path.join(dump, "access.log"), "w") as f:
        f.write("\n".join(lines) + "\n")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("fleet_check: %s: exit %d\n%s" % (" ".join(cmd), p.returncode, p.stderr))
    return p.stdout


def minute_text(v):
    """A minute as UTC text; the report writes it in the log's own offset."""
    if isinstance(v, str):
        v = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if v.tzinfo is None:  # Spark: in the session time zone, set to UTC
        v = v.replace(tzinfo=UTC)
    return v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def expected(reports):
    """The report's tables summed over the dumps, keyed as the SQL's rows."""
    tot = collections.Counter()
    causes = collections.Counter()
    timeline = collections.defaultdict(lambda: [0, 0, 0])
    ups = collections.Counter()
    born = collections.Counter()
    for r in reports:
        for k, n in ((r.get("born") or {}).get("totals") or {}).items():
            born[k] += n
        t = r["totals"]
        for k in ("requests", "status_5xx", "status_502", "status_504", "rescued"):
            tot[k] += t[k]
        for key, status in (("causes_502", 502), ("causes_504", 504)):
            for row in r[key]:
                causes[(status, row["cause"])] += row["count"]
        for m in r["timeline"]:
            e = timeline[minute_text(m["minute"])]
            e[0] += m["requests"]
            e[1] += m["status_502"]
            e[2] += m["status_504"]
        hops = {h["name"] for h in r.get("hops") or []} | {"nginx"}
        for u in r["top_upstreams"]:
            key = u["key"]
            hop, sep, rest = key.partition(": ")
            if sep and hop in hops:
                key = rest
            ups[key] += u["count"]
        if len(r["top_upstreams"]) >= 10:
            ups["(truncated)"] += 1
    timeline = {k: tuple(v) for k, v in timeline.items() if v[0] > 0}
    return dict(tot), dict(causes), timeline, dict(ups), dict(born)


def poisson_threshold(rate):
    """As src/analyze/incident.rs: the smallest k with P(X >= k) < 0.001."""
    if rate <= 0:
        return 1
    if rate > 500:
        return math.ceil(rate + 3.1 * math.sqrt(rate))
    term = math.exp(-rate)
    cdf = term
    k = 0
    while 1.0 - cdf >= 0.001 and k < 100000:
        k += 1
        term *= rate / k
        cdf += term
    return k + 1


def burst_minutes(per_minute):
    """The report's burst threshold over `per_minute` ({minute: 502s} of the
    minutes with requests) and the minutes at or above it, as
    src/analyze/incident.rs computes them (and sql/bursts.sql)."""
    if not per_minute:
        return 3, {}
    keys = sorted(per_minute)
    first = datetime.datetime.fromisoformat(keys[0].replace("Z", "+00:00"))
    last = datetime.datetime.fromisoformat(keys[-1].replace("Z", "+00:00"))
    span = int((last - first).total_seconds() // 60) + 1
    counts = sorted(list(per_minute.values()) + [0] * (span - len(per_minute)))
    median = counts[len(counts) // 2]
    ordinary_max = max(3, 4 * median)
    ordinary = [c for c in counts if c < ordinary_max]
    rate = sum(ordinary) / len(ordinary) if ordinary else float(median)
    threshold = max(ordinary_max, poisson_threshold(rate))
    return threshold, {m: n for m, n in per_minute.items() if n >= threshold}


def expected_bursts(reports):
    """Burst minutes over the summed timelines of the reports; first checks
    that this mirror of the report's rule gives each report's own threshold."""
    total = collections.Counter()
    for r in reports:
        mine = {minute_text(m["minute"]): m["status_502"] for m in r["timeline"] if m["requests"] > 0}
        threshold, _ = burst_minutes(mine)
        want = r["burst_baseline"]["threshold_per_minute"]
        if threshold != want:
            sys.exit("fleet_check: burst threshold mirror says %d, analyze %d" % (threshold, want))
        for m, n in mine.items():
            total[m] += n
    threshold, hot = burst_minutes(dict(total))
    return {m: (n, threshold) for m, n in hot.items()}


def from_sql(tables):
    t = tables["totals"][0]
    tot = dict(zip(("requests", "status_5xx", "status_502", "status_504", "rescued"), (int(x or 0) for x in t)))
    causes = {(int(s), c): int(n) for s, c, n in tables["causes"]}
    timeline = {minute_text(m): (int(r), int(a), int(b)) for m, r, a, b in tables["timeline"]}
    ups = collections.Counter()
    for _hop, addr, n in tables["top_upstreams"]:
        ups[addr] += int(n)
    born = {b: int(n) for b, n in tables["born"]}
    bursts = {minute_text(m): (int(n), int(t)) for m, n, t in tables["bursts"]}
    return tot, causes, timeline, dict(ups), born, bursts


def duckdb_tables(out):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    glob = os.path.join(out, "*", "**", "*.parquet")
    con.execute("CREATE VIEW requests AS SELECT * FROM read_parquet('%s', hive_partitioning = true)" % glob)
    tables = {}
    for name in sorted(os.listdir(SQL)):
        if name.endswith(".sql"):
            with open(os.path.join(SQL, name)) as f:
                tables[name[:-4]] = con.execute(f.read()).fetchall()
    return tables


def spark_tables(out):
    sys.path.insert(0, os.path.join(ROOT, "examples", "spark"))
    import fleet_502s

    spark = fleet_502s.session()
    try:
        return {k: [tuple(r) for r in v] for k, v in fleet_502s.run_sql(spark, out, SQL).items()}
    finally:
        spark.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gatecheck", default=os.path.join(ROOT, "target", "debug", "gatecheck"))
    ap.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    ap.add_argument("dumps", nargs="*")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="fleet-check-")
    try:
        dumps = a.dumps
        if not dumps:
            g1 = os.path.join(work, "dumps", "gen-edge-1")
            g2 = os.path.join(work, "dumps", "gen-edge-2")
            generate(g1, 1, datetime.datetime(2026, 11, 20, 13, 40, tzinfo=UTC), 0, 3000)
            generate(g2, 2, datetime.datetime(2026, 11, 20, 13, 50, tzinfo=UTC), 120, 2000)
            dumps = [os.path.join(ROOT, "fixtures/incident"), os.path.join(ROOT, "fixtures/logs/chain"), g1, g2]
        out = os.path.join(work, "out")
        reports = []
        for i, d in enumerate(dumps):
            host = "%d-%s" % (i, os.path.basename(os.path.normpath(d)))
            run([a.gatecheck, "export", d, "--to", os.path.join(out, host), "--host", host, "--no-progress"])
            reports.append(json.loads(run([a.gatecheck, "analyze", d, "--format", "json", "--no-progress"])))
        tables = duckdb_tables(out) if a.engine == "duckdb" else spark_tables(out)
        want = expected(reports) + (expected_bursts(reports),)
        got = from_sql(tables)
        bad = 0
        names = ("totals", "causes", "timeline", "top_upstreams", "born", "bursts")
        for name, w, g in zip(names, want, got):
            if name == "top_upstreams" and "(truncated)" in w:
                print("fleet_check: top_upstreams: a report lists only its top 10: not compared")
                continue
            if w != g:
                bad += 1
                print("fleet_check: MISMATCH in %s (%s)" % (name, a.engine))
                for k in sorted(set(w) | set(g), key=str):
                    if w.get(k) != g.get(k):
                        print("  %s: analyze %s, sql %s" % (k, w.get(k), g.get(k)))
            else:
                print("fleet_check: %s: %d rows equal (%s, %d dumps)" % (name, len(w), a.engine, len(dumps)))
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
