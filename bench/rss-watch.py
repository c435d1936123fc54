#!/usr/bin/env python3
"""Peak RSS per kind of process below ROOT_PID, until ROOT_PID exits.

    rss-watch.py ROOT_PID OUT_FILE [POSTMASTER_PID]

/usr/bin/time -v reports the largest process of the whole command, and under JBang that can be the launcher's
own JVM (dev.jbang.Main, ~90 MB, which exits before the script's JVM starts). This separates them: every 0.2 s
it reads VmHWM (the kernel's high-water mark of resident memory, so nothing between two samples is missed
except growth in the last 0.2 s) of every descendant and writes, in kB:
    jvm=<peak of the script's JVM> launcher=<peak of JBang's launcher JVM> any=<peak of any process>
and, in ms, for the pg_dump processes of the command, from the scheduler's own accounting (/proc/PID/schedstat):
    pgdump_cpu=<time on a CPU> pgdump_wait=<time runnable but waiting for a CPU>
    backend_cpu=... backend_wait=...   the same for the postmaster's client backends (TCP connections) meanwhile
and the CPU time of the script's JVM by thread, in ms (threads numbered alike summed: upload-part-1 and -2 as upload-part):
    jvm_threads=main:3600,upload-part:2500,C2 CompilerThread:2400,...
so a slow-down can be told apart: waiting for a core (CPU contention) or sleeping (on PostgreSQL or a full pipe).
The last sample before pg_dump exits is up to 0.2 s old.
"""
import os, re, sys, time

root, out = int(sys.argv[1]), sys.argv[2]
postmaster = int(sys.argv[3]) if len(sys.argv) > 3 else None
peak = {"jvm": 0, "launcher": 0, "any": 0}
pg_dump_sched = {}  # pid -> (ns on a CPU, ns waiting on the run queue), cumulative, last sample
backend_sched = {}  # the same for PostgreSQL client backends (not our descendants: the postmaster's)
jvm_threads = {}  # (jvm pid, tid) -> (thread name, CPU ms), last sample
HZ = os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError):
            pass
    return kids


def is_pg_dump(argv):
    """pg_dump itself, or a pg_dump started through the dynamic loader (how ../shared/tools/pg-client runs pg_dump 17)."""
    names = [os.path.basename(a.decode(errors="replace")) for a in argv if a]
    return bool(names) and (names[0] == "pg_dump" or (names[0].startswith("ld-linux") and "pg_dump" in names))


def schedstat(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        on_cpu, waiting = (int(x) for x in f.read().split()[:2])
    return on_cpu, waiting


def sample():
    kids = children_map()
    for p in kids.get(postmaster, []):  # the backends are the postmaster's children, not the command's
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                title = f.read()
            # A backend's process title: "postgres: USER DB 127.0.0.1(PORT) ACTIVITY".
            if title.startswith(b"postgres: ") and b" 127.0.0.1(" in title:
                backend_sched[p] = schedstat(p)
        except (OSError, ValueError):
            pass
    todo, seen = [root], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(kids.get(p, []))
    for p in seen:
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{p}/status") as f:
                hwm = next((int(l.split()[1]) for l in f if l.startswith("VmHWM:")), 0)
        except OSError:
            continue
        peak["any"] = max(peak["any"], hwm)
        if is_pg_dump(argv):
            try:
                pg_dump_sched[p] = schedstat(p)
            except (OSError, ValueError):
                pass
        if argv and os.path.basename(argv[0].decode(errors="replace")) == "java":
            kind = "launcher" if b"dev.jbang.Main" in argv else "jvm"
            peak[kind] = max(peak[kind], hwm)
            if kind == "jvm":
                sample_threads(p)


def sample_threads(pid):
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
            name = s[s.index("(") + 1:s.rindex(")")]
            fields = s[s.rindex(")") + 2:].split()
            jvm_threads[(pid, tid)] = ("main" if name == "java" else name, (int(fields[11]) + int(fields[12])) * 1000 // HZ)
    except (OSError, ValueError):
        pass


def threads_summary():
    by_name = {}
    for name, ms in jvm_threads.values():
        key = re.sub(r"[-#]?\d+$", "", name)  # upload-part-1 -> upload-part, C2 CompilerThre(ad0) -> C2 CompilerThre
        by_name[key] = by_name.get(key, 0) + ms
    top = sorted(by_name.items(), key=lambda kv: -kv[1])
    return ",".join(f"{k}:{v}" for k, v in top if v >= 50) or "-"


while os.path.exists(f"/proc/{root}"):
    sample()
    time.sleep(0.2)
with open(out, "w") as f:
    sched = {"pgdump_cpu": sum(c for c, _ in pg_dump_sched.values()) // 10**6,
             "pgdump_wait": sum(w for _, w in pg_dump_sched.values()) // 10**6,
             "backend_cpu": sum(c for c, _ in backend_sched.values()) // 10**6,
             "backend_wait": sum(w for _, w in backend_sched.values()) // 10**6}
    f.write(" ".join(f"{k}={v}" for k, v in {**peak, **sched}.items()) + f" jvm_threads={threads_summary().replace(' ', '_')}\n")
