"""Open items + aging on a synthetic 1,000,000-invoice set: our pandas/numpy core vs DuckDB SQL.

Run: .venv/bin/python benchmarks/aging.py [--invoices N] [--repeat R]
Each engine runs in its own child process (same frames, same seed) so that
peak memory (max RSS) is measured per engine; the results are cross-checked.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time

AS_OF = "2026-06-30"

OPEN_ITEMS_SQL = """
CREATE OR REPLACE TEMP TABLE items AS
WITH alloc AS (SELECT invoice, SUM(amount) AS a FROM allocations WHERE date <= $d GROUP BY invoice),
     offs AS (SELECT invoice, SUM(amount) AS w FROM write_offs WHERE date <= $d GROUP BY invoice),
     inv AS (
        SELECT i.invoice, i.client, i.site, i.kind, i.issue_date, i.due_date, i.retention_release_date,
               i.total - i.retention AS net, i.retention,
               COALESCE(alloc.a, 0) AS a, COALESCE(offs.w, 0) AS w
        FROM invoices i LEFT JOIN alloc USING (invoice) LEFT JOIN offs USING (invoice)
        WHERE i.issue_date <= $d AND i.kind <> 'credit_note'),
     split AS (SELECT *, LEAST(a, net) AS net_paid, LEAST(w, net - LEAST(a, net)) AS net_off FROM inv),
     parts AS (
        SELECT invoice, 0 AS part, client, site, kind, issue_date, due_date, net AS amount,
               net_paid AS paid, net_off AS off FROM split WHERE net > 0
        UNION ALL
        SELECT invoice, 1, client, site, kind, issue_date, retention_release_date, retention,
               a - net_paid, w - net_off FROM split WHERE retention > 0),
     due AS (SELECT *, amount - paid - off AS outstanding,
                    GREATEST(date_diff('day', due_date, $d::TIMESTAMP), 0) AS days_overdue
             FROM parts WHERE amount - paid - off > 0)
SELECT *, CASE WHEN days_overdue = 0 THEN 'not_due' WHEN days_overdue <= 30 THEN '1-30'
               WHEN days_overdue <= 60 THEN '31-60' WHEN days_overdue <= 90 THEN '61-90' ELSE '90+' END AS bucket
FROM due ORDER BY due_date, invoice
"""
AGING_SQL = """
SELECT client,
       SUM(outstanding) FILTER (WHERE bucket = 'not_due') AS not_due,
       SUM(outstanding) FILTER (WHERE bucket = '1-30') AS "1-30",
       SUM(outstanding) FILTER (WHERE bucket = '31-60') AS "31-60",
       SUM(outstanding) FILTER (WHERE bucket = '61-90') AS "61-90",
       SUM(outstanding) FILTER (WHERE bucket = '90+') AS "90+",
       SUM(outstanding) AS outstanding
FROM items GROUP BY client ORDER BY client
"""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(engine: str, n: int, repeat: int, queue) -> None:
    from echeances.synthetic import synthetic_frames

    frames = synthetic_frames(n)
    loaded = _rss_mb()
    times, result = [], None
    if engine == "pandas":
        from echeances.aging import aging, open_items

        for _ in range(repeat):
            start = time.perf_counter()
            items = open_items(frames.invoices, frames.allocations, frames.write_offs, AS_OF)
            table = aging(items, "client")
            times.append(time.perf_counter() - start)
        result = (len(items), int(items["outstanding"].sum()), len(table), int(table["90+"].sum()),
                  int(items["invoice"].iloc[0]), int(items["invoice"].iloc[-1]))
    else:
        import duckdb

        con = duckdb.connect()
        for name in ("invoices", "allocations", "write_offs"):
            con.register(name, getattr(frames, name))
        for _ in range(repeat):
            start = time.perf_counter()
            con.execute(OPEN_ITEMS_SQL, {"d": AS_OF})
            items = con.execute("SELECT * FROM items").df()
            table = con.execute(AGING_SQL).df()
            times.append(time.perf_counter() - start)
        result = (len(items), int(items["outstanding"].sum()), len(table), int(table["90+"].fillna(0).sum()),
                  int(items["invoice"].iloc[0]), int(items["invoice"].iloc[-1]))
    queue.put((engine, statistics.median(times), min(times), loaded, _rss_mb(), result,
               len(frames.invoices), len(frames.allocations)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    results = {}
    for engine in ("pandas", "duckdb"):
        queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(engine, args.invoices, args.repeat, queue))
        proc.start()
        results[engine] = queue.get()
        proc.join()
    ours, ref = results["pandas"], results["duckdb"]
    print(f"open_items + aging as of {AS_OF}: {ours[6]:,} invoices, {ours[7]:,} allocations, "
          f"{ours[5][0]:,} open items, {ours[5][2]:,} clients; median of {args.repeat} runs")
    print(f"{'engine':<8} {'median s':>9} {'best s':>8} {'RSS after load MB':>18} {'peak RSS MB':>12}")
    for name, r in results.items():
        print(f"{name:<8} {r[1]:>9.3f} {r[2]:>8.3f} {r[3]:>18.0f} {r[4]:>12.0f}")
    print(f"ratio pandas/duckdb (median): {ours[1] / ref[1]:.2f}  (goal ≤ 1.00)")
    print(f"same result: {ours[5] == ref[5]}  {ours[5]}")
    if ours[5] != ref[5]:
        raise SystemExit(f"results differ: duckdb {ref[5]}")


if __name__ == "__main__":
    main()
