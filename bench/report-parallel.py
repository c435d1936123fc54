#!/usr/bin/env python3
"""bench/run.sh MODE=parallel's (and MODE=startup's) report: one table per size, a row per contender and latency, and the issue's targets.

    report-parallel.py RESULTS_TSV OUT_MD "SIZE=DB_BYTES,..." PG_DUMP_VERSION COMMAND
"""
import collections
import os
import platform
import re
import statistics
import sys
from datetime import datetime, timezone

results, out, meta, pg_dump, command = sys.argv[1:6]
rows = collections.defaultdict(list)  # (size, label) -> [(wall, cpu, rss MB, dump bytes, postgres cpu, s3proxy cpu, disk bytes)]
order = []
for line in open(results):
    f = (line.rstrip("\n").split("\t") + [""] * 15)[:15]
    size, label = f[0], f[1]
    if (size, label) not in rows:
        order.append((size, label))
    rows[(size, label)].append((float(f[2]), float(f[3]), int(f[4] or 0), int(f[5]) if f[5] else None, float(f[6] or 0), float(f[7] or 0),
                                int(f[14]) if f[14] else None))
dbsize = {}
for item in meta.strip(",").split(","):
    s, b = item.split("=")
    dbsize[s] = int(b or 0)

med = statistics.median
MB = 1024 * 1024


def m(size, label, i):
    vals = [r[i] for r in rows.get((size, label), []) if r[i] is not None]
    return med(vals) if vals else None


def spread(size, label):
    walls = [r[0] for r in rows[(size, label)]]
    return f" [{min(walls):.1f}-{max(walls):.1f}]" if len(walls) > 1 else ""


def latency(label):
    x = re.search(r" @ (\S+) ms RTT$", label)
    return (x.group(1) if x else "0", label[:x.start()] if x else label)


lines = [f"# bench/run.sh {command.split()[0]}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
         f"    {command}", "",
         f"Machine: {os.cpu_count()} cores, {platform.machine()}, pg_dump {pg_dump}. Medians of {max(len(v) for v in rows.values()) if rows else 0} run(s).", ""]
for size in dict.fromkeys(s for s, _ in order):
    lines += [f"## ~{size} GB ({dbsize.get(size, 0) // MB} MB on disk)", "",
              "| contender | RTT ms | wall s | CPU s (+ PostgreSQL / s3proxy) | JVM peak RSS MB | peak local disk MB | stored MB |",
              "|---|---|---|---|---|---|---|"]
    for s, label in order:
        if s != size:
            continue
        ms, base = latency(label)
        disk, stored, rss = m(size, label, 6), m(size, label, 3), m(size, label, 2)
        lines.append(f"| {base} | {ms} | {m(size, label, 0):.1f}{spread(size, label)} | {m(size, label, 1):.1f} (+ {m(size, label, 4):.1f} / {m(size, label, 5):.1f}) | "
                     f"{rss if 'backup' in base or 'restore.java' in base else ''} | {'' if disk is None else f'{disk / MB:.0f}'} | "
                     f"{'' if stored is None else f'{stored / MB:.0f}'} |")
    lines += ["", "Against the targets of issue 21:", ""]
    for ms in dict.fromkeys(latency(l)[0] for s, l in order if s == size):
        at = "" if ms == "0" else f" @ {ms} ms RTT"
        par, one, fd = (m(size, f"{c}{at}", 0) for c in ("backup --parallel 2", "backup, one stream", "pg_dump -Fd -j 2 to a local directory"))
        if par and one:
            lines.append(f"- RTT {ms} ms: backup --parallel 2 = {par / one:.2f} x backup one stream" + (" (target under latency: <= 0.6)" if ms != "0" else ""))
        if par and fd:
            lines.append(f"- RTT {ms} ms: backup --parallel 2 = {par / fd:.2f} x pg_dump -Fd -j 2 to local disk" + (" (target without latency: <= 1.05)" if ms == "0" else ""))
        spool, stored = m(size, f"backup --parallel 2{at}", 6), m(size, f"backup --parallel 2{at}", 3)
        if spool is not None and stored:
            lines.append(f"- RTT {ms} ms: peak spool {spool / MB:.0f} MB = {spool / stored:.2f} x the dump ({stored / MB:.0f} MB)")
    pr, jr = m(size, "pg_restore -Fd -j 2, local directory", 0), m(size, "restore.java --jobs 2 of a --parallel 2 backup (from S3)", 0)
    if pr and jr:
        lines.append(f"- restore.java --jobs 2 = {jr / pr:.2f} x pg_restore -Fd -j 2 from a local directory (target: <= 1.1)")
    pp = m(size, "restore.java --jobs 2 --create of a --parallel 2 backup (pipelined)", 0)
    if pr and pp:
        lines.append(f"- restore.java --jobs 2 --create (pipelined) = {pp / pr:.2f} x pg_restore -Fd -j 2 from a local directory (target: <= 1.1)")
    lines.append("")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
