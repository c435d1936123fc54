#!/usr/bin/env python3
"""Peak RSS per kind of process below ROOT_PID, until ROOT_PID exits.

    rss-watch.py ROOT_PID OUT_FILE

/usr/bin/time -v reports the largest process of the whole command, and under JBang that can be the launcher's
own JVM (dev.jbang.Main, ~90 MB, which exits before the script's JVM starts). This separates them: every 0.2 s
it reads VmHWM (the kernel's high-water mark of resident memory, so nothing between two samples is missed
except growth in the last 0.2 s) of every descendant and writes, in kB:
    jvm=<peak of the script's JVM> launcher=<peak of JBang's launcher JVM> any=<peak of any process>
"""
import os, sys, time

root, out = int(sys.argv[1]), sys.argv[2]
peak = {"jvm": 0, "launcher": 0, "any": 0}


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


def sample():
    kids = children_map()
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
        if argv and os.path.basename(argv[0].decode(errors="replace")) == "java":
            kind = "launcher" if b"dev.jbang.Main" in argv else "jvm"
            peak[kind] = max(peak[kind], hwm)


while os.path.exists(f"/proc/{root}"):
    sample()
    time.sleep(0.2)
with open(out, "w") as f:
    f.write(" ".join(f"{k}={v}" for k, v in peak.items()) + "\n")
