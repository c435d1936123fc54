#!/usr/bin/env python3
"""Turns bench/run.sh's measurements into the Markdown report: medians, min-max, ratios, the issue's targets.

    report.py RESULTS_TSV OUT_MD "SIZES" "SIZE=DB_BYTES=GZIP_DUMP_BYTES,..." PG_DUMP_VERSION PG17_VERSION COMMAND
"""
import collections
import os
import platform
import statistics
import sys
from datetime import datetime, timezone

results, out, sizes, meta, pg15, pg17, command = sys.argv[1:8]
sizes = sizes.split()

rows = collections.defaultdict(list)  # (size, label) -> [(wall, cpu, rss_mb, dump_bytes or None, postgres cpu, s3proxy cpu,
#                                          pg_dump's ms on a CPU or None, pg_dump's ms waiting for a CPU or None,
#                                          seconds backup.java's reader waited for S3 or None,
#                                          PostgreSQL backends' ms on a CPU or None, their ms waiting for a CPU or None,
#                                          {JVM thread name: CPU ms})]
order = []
for line in open(results):
    size, label, wall, cpu, rss, nbytes, pgcpu, s3cpu, dump_cpu, dump_wait, held, be_cpu, be_wait, threads = (line.rstrip("\n").split("\t") + [""] * 8)[:14]
    if label not in order:
        order.append(label)
    rows[(size, label)].append((float(wall), float(cpu), int(rss), int(nbytes) if nbytes else None, float(pgcpu or 0), float(s3cpu or 0),
                                int(dump_cpu) if dump_cpu and dump_cpu != "0" else None, int(dump_wait) if dump_cpu and dump_cpu != "0" else None,
                                float(held) if held else None,
                                int(be_cpu) if be_cpu and be_cpu != "0" else None, int(be_wait) if be_cpu and be_cpu != "0" else None,
                                {k.replace("_", " "): int(v) for k, v in (t.rsplit(":", 1) for t in threads.split(",") if ":" in t)}))

info = {}
for item in meta.strip(",").split(","):
    s, db, dump = item.split("=")
    info[s] = (int(db or 0), int(dump or 0))

DUMP_GZ = "pg_dump -Fc (gzip) > /dev/null"
DUMP_ZSTD = "pg_dump 17 -Fc --compress=zstd > /dev/null"
NEON = "Neon guide: pg_dump -Fc file, then aws s3 cp"
RESTORE_1 = "pg_restore --single-transaction, local file"
RESTORE_2 = "pg_restore --jobs 2, local file"
BACKUP_GZ = "backup.java (gzip, pg_dump 15)"
BACKUP_ZSTD = "backup.java (default: zstd, pg_dump 17)"
RESTORE_J1 = "restore.java (from S3)"
RESTORE_J2 = "restore.java --jobs 2 (from S3)"
RESTORE_STREAM = "restore.java --stream (from S3)"
STARTUP = "JBang + JVM start alone (backup.java --version)"
JAVA = (BACKUP_GZ, BACKUP_ZSTD, RESTORE_J1, RESTORE_STREAM, RESTORE_J2, STARTUP)


def md(label):
    """A label inside a Markdown table cell."""
    return label.replace("|", "\\|")


def med(xs):
    return statistics.median(xs)


def wall(size, label):
    rs = rows.get((size, label))
    return med([r[0] for r in rs]) if rs else None


def rss(size, label):
    rs = rows.get((size, label))
    return med([r[2] for r in rs]) if rs else None


def zstd_bytes(size):
    got = [r[3] for r in rows.get((size, BACKUP_ZSTD), []) if r[3]]
    return med(got) if got else None


def gzip_bytes(size):
    """The gzip dump's size: measured by the restore setup, else what backup.java reported."""
    if info.get(size, (0, 0))[1]:
        return info[size][1]
    got = [r[3] for r in rows.get((size, BACKUP_GZ), []) if r[3]]
    return med(got) if got else None


def dump_baseline(label):
    if label in (DUMP_GZ, DUMP_ZSTD, STARTUP) or "restore" in label:
        return None
    return DUMP_ZSTD if "zstd" in label else DUMP_GZ


def restore_baseline(label):
    if label in (RESTORE_1, RESTORE_2):
        return None
    if label in (RESTORE_J1, RESTORE_STREAM):
        return RESTORE_1
    if label == RESTORE_J2:
        return RESTORE_2
    return None


def ratio(size, label, base):
    if base is None:
        return ""
    a, b = wall(size, label), wall(size, base)
    return f"{a / b:.2f}" if a and b else ""


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
runs = max((len(v) for v in rows.values()), default=0)
lines = [
    f"# Benchmark {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
    "",
    f"Machine: {os.cpu_count()} cores ({cpu_model()}), {mem_gib:.0f} GiB RAM, Linux {platform.release()}; "
    f"PostgreSQL 15 server on the same machine; pg_dump/pg_restore {pg15}" + (f", pg_dump {pg17} for zstd" if pg17 else "")
    + f"; S3: local s3proxy {os.environ.get('S3PROXY_VERSION', '?')} over {os.environ.get('S3PROXY', 'https').upper()}, filesystem backend.",
    "",
    f"Command: `{command}`. {runs} run(s) per contender, alternating; each cell is the median, [min-max] when more than one run.",
    "Wall and CPU (user+sys of every process of the command) from `/usr/bin/time -v`; the CPU that PostgreSQL's server and"
    " s3proxy spent meanwhile (both on the same 2 cores) apart;"
    " peak RSS is that of the script's JVM for the Java rows (JBang's launcher JVM, which exits before it starts, excluded),"
    " else of the largest process. DB MB/s = database size on disk / wall; dump MB/s = dump size / wall."
    " pg_dump on a CPU / waiting for one: the scheduler's accounting of the pg_dump process (/proc/PID/schedstat):"
    " time it ran, and time it was runnable but every core was busy (CPU contention)."
    " The same for PostgreSQL's client backends (pg_dump's, pg_restore's) meanwhile."
    " Held back by S3: backup.java's secondsWaitingForS3, the time its reader waited for a free part buffer (pg_dump blocked on its pipe).",
    "",
]


def cell(xs, fmt):
    m = med(xs)
    return fmt.format(m) + (f" [{fmt.format(min(xs))}-{fmt.format(max(xs))}]" if len(xs) > 1 else "")


for size in sizes:
    db = info.get(size, (0, 0))[0]
    gz, zb = gzip_bytes(size), zstd_bytes(size)
    dumps = ", ".join(x for x in (f"{gz / 2**20:.0f} MB with gzip" if gz else "", f"{zb / 2**20:.0f} MB with zstd" if zb else "") if x)
    lines += [
        f"## ~{size} GB dataset: {db / 2**20:.0f} MB on disk" + (f"; custom-format dump {dumps}" if dumps else ""),
        "",
        "| contender | wall s | CPU s | CPU s of PostgreSQL / s3proxy | pg_dump s on a CPU / waiting for one | PostgreSQL backends s on a CPU / waiting for one | held back by S3 s | peak RSS MB | DB MB/s | dump MB/s | × pg_dump → /dev/null, same compression | × Neon pipeline | × pg_restore from file, same jobs |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label in order:
        rs = rows.get((size, label))
        if not rs:
            continue
        w = [r[0] for r in rs]
        c = [r[1] for r in rs]
        m = [r[2] for r in rs]
        servers = f"{med([r[4] for r in rs]):.1f} / {med([r[5] for r in rs]):.1f}"
        sched = [r for r in rs if r[6] is not None]
        dump_sched = f"{med([r[6] for r in sched]) / 1000:.1f} / {med([r[7] for r in sched]) / 1000:.1f}" if sched else ""
        be = [r for r in rs if r[9] is not None]
        backend_sched = f"{med([r[9] for r in be]) / 1000:.1f} / {med([r[10] for r in be]) / 1000:.1f}" if be else ""
        helds = [r[8] for r in rs if r[8] is not None]
        held = cell(helds, '{:.1f}') if helds else ""
        mw = med(w)
        dump = zb if "zstd" in label else gz
        throughput = label != STARTUP
        neon = "" if (label in (DUMP_GZ, DUMP_ZSTD, NEON, STARTUP) or "restore" in label) else ratio(size, label, NEON)
        lines.append(
            f"| {md(label)} | {cell(w, '{:.1f}')} | {cell(c, '{:.1f}')} | {servers} | {dump_sched} | {backend_sched} | {held} | {cell(m, '{:.0f}')} | "
            f"{db / 2**20 / mw:.0f} | {(f'{dump / 2**20 / mw:.0f}' if dump and throughput else '')} | "
            f"{ratio(size, label, dump_baseline(label))} | {neon} | {ratio(size, label, restore_baseline(label))} |"
            if throughput else
            f"| {md(label)} | {cell(w, '{:.1f}')} | {cell(c, '{:.1f}')} | {servers} | | | | {cell(m, '{:.0f}')} | | | | | |"
        )
    lines.append("")

# Where the JVM's CPU goes: its threads' CPU time (the kernel's accounting), median per thread name.
profile = []
for size in sizes:
    for label in JAVA:
        runs_threads = [r[11] for r in rows.get((size, label), []) if r[11]]
        if not runs_threads:
            continue
        names = sorted({n for t in runs_threads for n in t}, key=lambda n: -med([t.get(n, 0) for t in runs_threads]))
        total = med([sum(t.values()) for t in runs_threads]) / 1000
        shown = ", ".join(f"{n} {med([t.get(n, 0) for t in runs_threads]) / 1000:.1f}" for n in names[:6])
        profile.append(f"| ~{size} GB | {md(label)} | {total:.1f} | {shown} |")
if profile:
    lines += ["## The script JVM's CPU by thread (s, medians)", "",
              "main: start-up, then reading pg_dump's pipe and SHA-256 (backup), or the download, TLS and SHA-256 (restore);"
              " upload-part: CRC32, TLS and sending parts (backup); C1/C2 CompilerThre: the JIT compilers; VM Thread: GC."
              " Sampled every 0.2 s: a JVM that lives less than that (--version) shows little.", "",
              "| size | contender | JVM CPU s | by thread |", "|---|---|---|---|"] + profile + [""]

# The targets of issue 8, computed from the medians above.
targets = []


def verdict(ok):
    return "**met**" if ok else "**missed**"


for size in sizes:
    for label, base, limit in ((BACKUP_GZ, DUMP_GZ, 1.05), (BACKUP_ZSTD, DUMP_ZSTD, 1.05), (BACKUP_ZSTD, NEON, 0.5),
                               (RESTORE_J1, RESTORE_1, 1.10), (RESTORE_STREAM, RESTORE_1, 1.10), (RESTORE_J2, RESTORE_2, 1.10)):
        a, b = wall(size, label), wall(size, base)
        if a and b:
            targets.append(f"| ~{size} GB | {label} ≤ {limit:.2f} × {base} | {a:.1f} s / {b:.1f} s = {a / b:.2f} | {verdict(a / b <= limit)} |")
if len(sizes) > 1:
    lo_s, hi_s = sizes[0], sizes[-1]
    for label, base, limit in ((BACKUP_GZ, DUMP_GZ, 1.05), (BACKUP_ZSTD, DUMP_ZSTD, 1.05), (BACKUP_ZSTD, NEON, 0.5),
                               (RESTORE_J1, RESTORE_1, 1.10), (RESTORE_STREAM, RESTORE_1, 1.10), (RESTORE_J2, RESTORE_2, 1.10)):
        a1, a2, b1, b2 = wall(lo_s, label), wall(hi_s, label), wall(lo_s, base), wall(hi_s, base)
        if None not in (a1, a2, b1, b2) and b2 > b1:
            r = (a2 - a1) / (b2 - b1)
            targets.append(f"| ~{lo_s} → ~{hi_s} GB: per extra GB | {label} ≤ {limit:.2f} × {base} | "
                           f"({a2:.1f} − {a1:.1f}) s / ({b2:.1f} − {b1:.1f}) s = {r:.2f} | {verdict(r <= limit)} |")
peaks = [(size, label, rss(size, label)) for size in sizes for label in JAVA if rss(size, label)]
if peaks:
    top = max(peaks, key=lambda p: p[2])
    targets.append(f"| all | JVM peak RSS ≤ 256 MB | largest median: {top[2]:.0f} MB ({top[1]}, ~{top[0]} GB) | {verdict(top[2] <= 256)} |")
if len(sizes) > 1:
    for label in (BACKUP_GZ, BACKUP_ZSTD, RESTORE_J1, RESTORE_STREAM, RESTORE_J2):
        got = [(s, rss(s, label)) for s in sizes if rss(s, label)]
        if len(got) > 1:
            lo, hi = min(g[1] for g in got), max(g[1] for g in got)
            shown = ", ".join(f"{g[1]:.0f} MB at ~{g[0]} GB" for g in got)
            targets.append(f"| {' vs '.join('~' + g[0] + ' GB' for g in got)} | {label}: peak RSS flat within 10% | {shown}: {(got[-1][1] / got[0][1] - 1) * 100:+.0f}% (spread {(hi / lo - 1) * 100:.0f}%) | {verdict(hi <= lo * 1.10)} |")
if targets:
    lines += ["## Targets (issue 8)", "", "| size | target | measured (medians) | |", "|---|---|---|---|"] + targets + [""]

open(out, "w").write("\n".join(lines))
print("\n".join(lines))
