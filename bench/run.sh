#!/usr/bin/env bash
# Benchmarks backup.java and restore.java against the baselines of design.md section 6, in one run, on the
# same database and the same local S3 server, alternating the contenders and repeating each (median, min-max).
#
#   bash bench/run.sh                 # sizes 1 and 5 GB, 3 runs each
#   SIZES="1" RUNS=3 bash bench/run.sh
#
# Needs: PostgreSQL server binaries (/usr/lib/postgresql/N/bin), the aws CLI, Maven (to fetch s3proxy),
# /usr/bin/time. Uses pg_dump 17 (zstd) from ../shared/tools/pg-client when available (PG17_BIN).
# Writes bench/results/YYYY-MM-DD-HHMM.md and prints it. Everything it starts is stopped at the end.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v jbang >/dev/null 2>&1 || export PATH="$root/tools:$PATH"
SIZES=${SIZES:-"1 5"}
RUNS=${RUNS:-3}
S3PROXY_VERSION=2.6.0
pgbin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
pg17=${PG17_BIN:-$HOME/.cache/pgdump-s3/pg17/bin}
if [ ! -x "$pg17/pg_dump" ] && [ -x "$root/../shared/tools/pg-client" ] && [ "$(id -u)" = 0 ]; then
  bash "$root/../shared/tools/pg-client" 17 "$HOME/.cache/pgdump-s3/pg17" >/dev/null || true
fi
[ -x "$pg17/pg_dump" ] || pg17=

work=${BENCH_WORK:-$root/bench/work}
mkdir -p "$work" "$root/bench/results"
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  as_pg "$pgbin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work/s3" "$work/dump.file"
}
trap cleanup EXIT

# --- PostgreSQL: a throwaway cluster, tuned for loading, not for durability.
pg_port=$(free_port)
export PGPASSWORD=bench
if [ ! -d "$work/data" ]; then
  printf 'bench\n' > "$work/pw"; [ "$(id -u)" = 0 ] && chown -R postgres "$work"
  as_pg "$pgbin/initdb" -D "$work/data" -U postgres --auth=scram-sha-256 --pwfile="$work/pw" -E UTF8 --locale=C >/dev/null
fi
as_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=8GB -c shared_buffers=1GB -c maintenance_work_mem=512MB" start >/dev/null
server="postgresql://postgres@127.0.0.1:$pg_port"
psql() { "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# --- S3: s3proxy with a filesystem backend (moto keeps objects in memory and is slow for GBs).
jar=$HOME/.m2/repository/org/gaul/s3proxy/$S3PROXY_VERSION/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar
[ -f "$jar" ] || mvn -q dependency:get -Dartifact=org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies >/dev/null
s3_port=$(free_port)
mkdir -p "$work/s3"
cat > "$work/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:$s3_port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=bench
s3proxy.credential=benchsecret
jclouds.provider=filesystem
jclouds.filesystem.basedir=$work/s3
CONF
java -jar "$jar" --properties "$work/s3proxy.conf" >"$work/s3proxy.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$s3_port/" >/dev/null 2>&1 && break; sleep 0.3; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
export S3_BUCKET=bench
aws s3 mb "s3://$S3_BUCKET" --endpoint-url "$AWS_ENDPOINT_URL" >/dev/null 2>&1 || true

# Build the scripts once, so JBang's first compile is not measured.
jbang build backup.java >/dev/null 2>&1; jbang build restore.java >/dev/null 2>&1

# --- Measuring: /usr/bin/time -v around the whole command (pipelines included: peak RSS is the largest process).
results=$work/results.tsv
: > "$results"
measure() { # measure SIZE LABEL COMMAND...
  local size=$1 label=$2; shift 2
  local t=$work/time.txt
  if ! /usr/bin/time -v -o "$t" bash -o pipefail -c "$*" >"$work/last.out" 2>"$work/last.err"; then
    echo "bench: '$label' failed:" >&2; tail -5 "$work/last.err" >&2; return 1
  fi
  local wall cpu rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$t")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$t")
  rss=$(awk -F': ' '/Maximum resident/ {print int($2/1024)}' "$t")
  printf '%s\t%s\t%s\t%s\t%s\n' "$size" "$label" "$wall" "$cpu" "$rss" >> "$results"
  printf '  %-40s wall %6.1f s  cpu %6.1f s  rss %5d MB\n' "$label" "$wall" "$cpu" "$rss"
}

declare -A dbsize dumpsize
for size in $SIZES; do
  db=bench_${size}g
  # --- Dataset: pgbench tables + a mixed text/jsonb/bytea table, deterministic (fixed seeds), about SIZE GB on disk.
  if [ "$(psql -d "$server/postgres" -A -t -c "select count(*) from pg_database where datname = '$db'")" = 0 ]; then
    echo "== creating $db (~$size GB)"
    psql -d "$server/postgres" -c "create database $db"
    pgbench -q -i -s $((size * 35)) -d "$server/$db" >/dev/null 2>&1
    psql -d "$server/$db" <<SQL
create table documents (id bigint primary key, title text, body text, attrs jsonb, thumbnail bytea, created_at timestamptz);
insert into documents
select g,
       'Document ' || g || ' about ' || (array['invoices','shipping','returns','support','billing'])[1 + g % 5],
       repeat(md5(g::text) || ' lorem ipsum dolor sit amet ' || (g % 1000) || ' ', 1 + g % 12),
       jsonb_build_object('customer', g % 50000, 'tags', jsonb_build_array('t' || g % 7, 't' || g % 13), 'score', (g % 1000) / 10.0),
       decode(repeat(md5((g % 5000)::text), 4), 'hex') || decode(md5(g::text), 'hex'),
       timestamptz '2024-01-01' + (g || ' seconds')::interval
from generate_series(1, $((size * 1000000))) g;
vacuum analyze;
SQL
  fi
  dbsize[$size]=$(psql -d "$server/$db" -A -t -c "select pg_database_size(current_database())")
  url="$server/$db"
  echo "== $db: $((dbsize[$size] / 1048576)) MB on disk; $RUNS runs each, alternating"
  for run in $(seq "$RUNS"); do
    echo " run $run"
    measure "$size" "pg_dump -Fc (gzip) > /dev/null" "$pgbin/pg_dump -Fc -d '$url' -f /dev/null"
    measure "$size" "Neon guide: pg_dump file + aws s3 cp" "$pgbin/pg_dump -Fc -d '$url' -f '$work/dump.file' && aws s3 cp --only-show-errors '$work/dump.file' s3://$S3_BUCKET/neon/$db.dump; rm -f '$work/dump.file'"
    measure "$size" "shell: pg_dump -Fc | aws s3 cp -" "$pgbin/pg_dump -Fc -d '$url' | aws s3 cp --only-show-errors - s3://$S3_BUCKET/stream/$db.dump"
    measure "$size" "backup.java (gzip, pg_dump 15)" "jbang backup.java --database-url '$url' --name $db-gzip --pg-dump $pgbin/pg_dump"
    if [ -n "$pg17" ]; then
      measure "$size" "pg_dump 17 -Fc --compress=zstd > /dev/null" "$pg17/pg_dump -Fc --compress=zstd -d '$url' -f /dev/null"
      measure "$size" "backup.java (default: zstd, pg_dump 17)" "jbang backup.java --database-url '$url' --name $db-zstd --pg-dump $pg17/pg_dump"
    fi
  done
  # Restore: the same dump from a local file with pg_restore, vs restore.java from S3 (and --jobs 2).
  "$pgbin/pg_dump" -Fc -d "$url" -f "$work/dump.file"
  dumpsize[$size]=$(stat -c %s "$work/dump.file")
  for run in $(seq "$RUNS"); do
    for contender in pg_restore restore.java "restore.java --jobs 2"; do
      psql -d "$server/postgres" -c "drop database if exists restored with (force)" -c "create database restored"
      case $contender in
        pg_restore) measure "$size" "pg_restore from a local file" "$pgbin/pg_restore --no-owner --no-acl -d '$server/restored' '$work/dump.file'" ;;
        restore.java) measure "$size" "restore.java (from S3)" "jbang restore.java restore --name $db-gzip --target-url '$server/restored' --pg-restore $pgbin/pg_restore" ;;
        *) measure "$size" "restore.java --jobs 2 (from S3)" "jbang restore.java restore --name $db-gzip --jobs 2 --target-url '$server/restored' --pg-restore $pgbin/pg_restore" ;;
      esac
    done
  done
  rm -f "$work/dump.file"
done

# --- Report: median and min-max per contender and size, ratios to the baselines.
out=$root/bench/results/$(date -u +%Y-%m-%d-%H%M).md
python3 - "$results" "$out" "$(nproc)" "$(free -g | awk '/Mem:/ {print $2}')" "${SIZES}" \
  "$(for s in $SIZES; do printf '%s=%s=%s,' "$s" "${dbsize[$s]}" "${dumpsize[$s]}"; done)" <<'PY'
import sys, statistics, collections
results, out, cores, mem, sizes, meta = sys.argv[1:7]
rows = collections.defaultdict(list)
order = []
for line in open(results):
    size, label, wall, cpu, rss = line.rstrip("\n").split("\t")
    if (size, label) not in rows: order.append((size, label))
    rows[(size, label)].append((float(wall), float(cpu), int(rss)))
info = {}
for item in meta.strip(",").split(","):
    s, db, dump = item.split("=")
    info[s] = (int(db), int(dump))
def med(xs): return statistics.median(xs)
lines = [f"# Benchmark {out.rsplit('/',1)[-1][:-3]}", "",
         f"Machine: {cores} cores, {mem} GiB RAM; local s3proxy (filesystem backend); medians of the runs, min-max in brackets.", ""]
baselines = {"dump": "pg_dump -Fc (gzip) > /dev/null", "neon": "Neon guide: pg_dump file + aws s3 cp", "restore": "pg_restore from a local file"}
for size in sizes.split():
    db, dump = info[size]
    lines += [f"## ~{size} GB database ({db/2**20:.0f} MB on disk, gzip dump {dump/2**20:.0f} MB)", "",
              "| contender | wall s | CPU s | peak RSS MB | DB MB/s | dump MB/s | × pg_dump→/dev/null | × Neon pipeline | × pg_restore file |",
              "|---|---|---|---|---|---|---|---|---|"]
    base = {k: med([r[0] for r in rows[(size, v)]]) for k, v in baselines.items() if rows.get((size, v))}
    for (s, label) in order:
        if s != size: continue
        rs = rows[(s, label)]
        w = [r[0] for r in rs]; c = [r[1] for r in rs]; m = [r[2] for r in rs]
        mw = med(w)
        ratio = lambda k: f"{mw / base[k]:.2f}" if k in base and base[k] > 0 else ""
        is_restore = "restore" in label
        lines.append(f"| {label} | {mw:.1f} [{min(w):.1f}-{max(w):.1f}] | {med(c):.1f} | {med(m):.0f} [{min(m)}-{max(m)}] | "
                     f"{db/2**20/mw:.0f} | {dump/2**20/mw:.0f} | {'' if is_restore else ratio('dump')} | {'' if is_restore else ratio('neon')} | {ratio('restore') if is_restore else ''} |")
    lines.append("")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "Written to $out"
