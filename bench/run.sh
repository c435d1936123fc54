#!/usr/bin/env bash
# Benchmarks backup.java and restore.java against the baselines of design.md section 6, in one run, on the
# same database and the same local S3 server, alternating the contenders and repeating each (median, min-max).
#
#   bash bench/run.sh                         # sizes ~1 and ~5 GB, 3 runs each
#   SIZES="1 2" RUNS=3 bash bench/run.sh      # sizes in GB of database on disk; fractions work (SIZES=0.1)
#   SIZES=0.1 RUNS=1 ONLY='backup' bash bench/run.sh   # only the contenders whose label matches (grep -E)
#   SIZES="1 5" PREPARE_ONLY=1 bash bench/run.sh       # only create the datasets (kept in bench/work)
#   KEEP_GOING=1 ...                                   # a failed contender is reported, not fatal
#   MODE=parallel SIZES=5 RUNS=1 bash bench/run.sh     # issue 21: the four backup contenders at each LATENCY_MS
#       (default "0 20", RTT through bench/LatencyProxy.java, WINDOW bytes in flight per direction, default 1048576),
#       then the two directory-format restores (no latency); pg_dump 17 with zstd for the backups when there
#   MODE=startup SIZES=0.01 RUNS=5 bash bench/run.sh   # the fixed cost: backup --version and a ~10 MB backup on JDK 17
#       and $JDK25 (default /usr/lib/jvm/temurin-25-jdk-amd64), as is, with JBang's --cds, C1 only, and JDK 25's AOT cache
#
# Needs: PostgreSQL server binaries (/usr/lib/postgresql/N/bin), the aws CLI, Java 17+, Maven (to fetch
# s3proxy once), python3, /usr/bin/time. Uses pg_dump 17 (zstd) from $PG17_BIN (default
# ~/.cache/pgdump-s3/pg17/bin, installed by ../shared/tools/pg-client when present and run as root).
# Datasets are created once (not timed) and kept in bench/work (gitignored; delete it to start over).
# Writes bench/results/YYYY-MM-DD-HHMM.md and prints it. Everything it starts is stopped at the end.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v jbang >/dev/null 2>&1 || export PATH="$root/tools:$PATH"
SIZES=${SIZES:-"1 5"}
RUNS=${RUNS:-3}
ONLY=${ONLY:-.}
MODE=${MODE:-all}
LATENCY_MS=${LATENCY_MS:-"0 20"}
WINDOW=${WINDOW:-1048576}
export S3PROXY_VERSION=${S3PROXY_VERSION:-4.1.0}
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

# --- PostgreSQL: a throwaway cluster, tuned for loading and restoring, not for durability (same for every contender).
pg_port=$(free_port)
if [ ! -d "$work/data" ]; then
  printf 'bench\n' > "$work/pw"; [ "$(id -u)" = 0 ] && chown -R postgres "$work"
  as_pg "$pgbin/initdb" -D "$work/data" -U postgres --auth=scram-sha-256 --pwfile="$work/pw" -E UTF8 --locale=C >/dev/null
fi
as_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=8GB -c shared_buffers=1GB -c maintenance_work_mem=512MB" start >/dev/null
# The password travels in the URL, as DATABASE_URL does in CI (every contender gets the same URL).
server="postgresql://postgres:bench@127.0.0.1:$pg_port"
psql() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# --- S3: s3proxy with a filesystem backend (moto keeps objects in memory and is slow for GBs), over HTTPS like
# real S3: over plain HTTP the AWS SDK signs every chunk of every upload (an extra SHA-256 pass and copy of the
# data) that it never does against https://s3.amazonaws.com, so HTTP would measure a cost users do not pay.
# S3PROXY=http measures that case instead. Self-signed certificate for 127.0.0.1, trusted by Java and the aws CLI.
jar=$HOME/.m2/repository/org/gaul/s3proxy/$S3PROXY_VERSION/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar
[ -f "$jar" ] || mvn -q dependency:get -Dartifact=org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies >/dev/null
s3_port=$(free_port)
rm -rf "$work/s3"; mkdir -p "$work/s3"
scheme=${S3PROXY:-https}
if [ ! -f "$work/tls/trust.p12" ]; then
  rm -rf "$work/tls"; mkdir -p "$work/tls"
  keytool -genkeypair -alias s3proxy -keyalg EC -groupname secp256r1 -validity 3650 -dname CN=127.0.0.1 -ext SAN=ip:127.0.0.1 \
    -keystore "$work/tls/server.p12" -storetype pkcs12 -storepass benchpass -keypass benchpass 2>/dev/null
  keytool -exportcert -rfc -alias s3proxy -keystore "$work/tls/server.p12" -storepass benchpass > "$work/tls/ca.pem" 2>/dev/null
  keytool -importcert -noprompt -alias s3proxy -file "$work/tls/ca.pem" -keystore "$work/tls/trust.p12" -storetype pkcs12 -storepass benchpass >/dev/null 2>&1
fi
{
  if [ "$scheme" = https ]; then
    echo "s3proxy.secure-endpoint=https://127.0.0.1:$s3_port"
    echo "s3proxy.keystore-path=$work/tls/server.p12"
    echo "s3proxy.keystore-password=benchpass"
  else
    echo "s3proxy.endpoint=http://127.0.0.1:$s3_port"
  fi
  echo "s3proxy.authorization=aws-v2-or-v4"
  echo "s3proxy.identity=bench"
  echo "s3proxy.credential=benchsecret"
  echo "jclouds.provider=filesystem"
  echo "jclouds.filesystem.basedir=$work/s3"
} > "$work/s3proxy.conf"
JAVA_TOOL_OPTIONS= java -jar "$jar" --properties "$work/s3proxy.conf" >"$work/s3proxy.log" 2>&1 & pids+=($!)
s3proxy_pid=$!
for _ in $(seq 100); do curl -sk "$scheme://127.0.0.1:$s3_port/" >/dev/null 2>&1 && break; sleep 0.3; done
export AWS_ENDPOINT_URL="$scheme://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
export AWS_CA_BUNDLE=$work/tls/ca.pem
# For the scripts' JVMs (JBang's launcher ignores it; it prints "Picked up JAVA_TOOL_OPTIONS" on stderr only).
export JAVA_TOOL_OPTIONS="-Djavax.net.ssl.trustStore=$work/tls/trust.p12 -Djavax.net.ssl.trustStorePassword=benchpass -Djavax.net.ssl.trustStoreType=pkcs12"
unset AWS_PROFILE AWS_DEFAULT_PROFILE S3_BUCKET_NAME S3_PREFIX DATABASE_URL RESTORE_DATABASE_URL PG_DUMP 2>/dev/null || true
export S3_BUCKET=bench
aws s3 mb "s3://$S3_BUCKET" >/dev/null 2>&1 || aws s3api head-bucket --bucket "$S3_BUCKET" # a retry under load may find it made

# Build the scripts once, so JBang's first compile is not measured.
jbang build backup.java >/dev/null; jbang build restore.java >/dev/null

# --- Measuring: /usr/bin/time -v around the whole command (pipelines included) for wall and CPU (user+sys of
# every process of the command); rss-watch.py for the peak RSS of each kind of process (see there).
results=$work/results.tsv
: > "$results"
# CPU seconds a server spent: its own plus that of its exited children (PostgreSQL's backends are the postmaster's).
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat"; }
measure() { # measure SIZE LABEL COMMAND...
  local size=$1 label=$2; shift 2
  echo "$label" | grep -Eq -- "$ONLY" || return 0
  local t=$work/time.txt rss=$work/rss.txt status=0
  rm -f "$rss" "$work/disk.txt"
  local pg_pid pg0 s30
  pg_pid=$(head -1 "$work/data/postmaster.pid"); pg0=$(cpu_of "$pg_pid"); s30=$(cpu_of "$s3proxy_pid")
  /usr/bin/time -v -o "$t" bash -o pipefail -c "$*" >"$work/last.out" 2>"$work/last.err" &
  local tpid=$!
  python3 "$root/bench/rss-watch.py" "$tpid" "$rss" "$pg_pid" &
  local wpid=$!
  wait "$tpid" || status=$?
  wait "$wpid" || true
  local pgcpu s3cpu
  sleep 0.3 # let the postmaster reap the command's backends, whose CPU it then counts
  pgcpu=$(echo "$(cpu_of "$pg_pid") - $pg0" | bc); s3cpu=$(echo "$(cpu_of "$s3proxy_pid") - $s30" | bc)
  if [ "$status" != 0 ]; then
    [ -n "${KEEP_GOING:-}" ] && { echo "bench: '$label' failed (exit $status): $(tail -1 "$work/last.err")" >&2; return 0; }
    echo "bench: '$label' failed (exit $status):" >&2; tail -5 "$work/last.err" >&2; return 1
  fi
  local wall cpu jvm any bytes
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$t")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$t")
  jvm=$(sed -n 's/.*jvm=\([0-9]*\).*/\1/p' "$rss"); any=$(sed -n 's/.*any=\([0-9]*\).*/\1/p' "$rss")
  local dump_cpu dump_wait  # pg_dump's own time on a CPU and waiting for one (ms), from the scheduler
  dump_cpu=$(sed -n 's/.*pgdump_cpu=\([0-9]*\).*/\1/p' "$rss"); dump_wait=$(sed -n 's/.*pgdump_wait=\([0-9]*\).*/\1/p' "$rss")
  local backend_cpu backend_wait  # the same for PostgreSQL's client backends meanwhile (pg_dump's, pg_restore's, psql's)
  backend_cpu=$(sed -n 's/.*backend_cpu=\([0-9]*\).*/\1/p' "$rss"); backend_wait=$(sed -n 's/.*backend_wait=\([0-9]*\).*/\1/p' "$rss")
  local threads  # the script JVM's CPU ms by thread, e.g. main:3600,upload-part:2500,C2_CompilerThre:2400
  threads=$(sed -n 's/.*jvm_threads=\([^ ]*\).*/\1/p' "$rss"); [ "$jvm" -gt 0 ] || threads=
  # The script's JVM when there is one (not JBang's launcher, which has exited before it starts), else the largest process.
  local peak=$(( (jvm > 0 ? jvm : any) / 1024 ))
  local held  # backup.java's own measure of how long S3 held the dump back (its reader waiting for a free part buffer)
  read -r bytes held < <(python3 -c 'import json,sys
try: d=json.load(open(sys.argv[1]))["backups"][0]; print(d["sizeBytes"], d.get("secondsWaitingForS3", ""))
except Exception: print("")' "$work/last.out")
  local disk  # peak local disk: what a contender wrote to disk.txt (a dump directory's size), else backup --parallel's "peak spool" or restore's "peak temp disk"
  disk=$(cat "$work/disk.txt" 2>/dev/null || sed -n 's/.*peak \(spool\|temp disk\) \([0-9.]*\) \([KMGT]\{0,1\}\)i\{0,1\}B.*/\2 \3/p' "$work/last.err" | tail -1 |
    awk '{ m = index("KMGT", $2); printf "%d", $1 * (m ? 1024 ^ m : 1) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$label" "$wall" "$cpu" "$peak" "$bytes" "$pgcpu" "$s3cpu" "$dump_cpu" "$dump_wait" "$held" "$backend_cpu" "$backend_wait" "$threads" "$disk" >> "$results"
  printf '  %-46s wall %7.1f s  cpu %7.1f s (+ postgres %5.1f, s3proxy %5.1f)  peak rss %5d MB%s%s\n' "$label" "$wall" "$cpu" "$pgcpu" "$s3cpu" "$peak" \
    "$([ "$jvm" -gt 0 ] && echo ' (JVM)')" "$([ "${dump_cpu:-0}" -gt 0 ] && echo "  pg_dump on a CPU ${dump_cpu} ms, waiting for one ${dump_wait} ms")$([ -n "$held" ] && echo ", held back by S3 ${held} s")$([ "${backend_cpu:-0}" -gt 0 ] && echo "; backends on a CPU ${backend_cpu} ms, waiting ${backend_wait} ms")$([ -n "$threads" ] && echo "; JVM CPU ms by thread ${threads}")"
}

# --- MODE=parallel (issue 21): pg_dump -Fc -> /dev/null, pg_dump -Fd -j 2 -> a local directory, backup one stream,
# backup --parallel 2, each at every LATENCY_MS (the server behind bench/LatencyProxy.java, which every contender's
# connections go through: tc netem is not available on every kernel, see docs/performance.md); then pg_restore -Fd -j 2
# from a local directory vs restore.java --jobs 2 of the --parallel backup from S3, without latency. zstd throughout
# with pg_dump 17 (4x less CPU than gzip: the 2 cores are shared by pg_dump, PostgreSQL, the JVM and s3proxy).
parallel_contenders() { # SIZE DB
  local size=$1 db=$2 bin=${pg17:-$pgbin} z proxy_pid=
  z=$([ -n "$pg17" ] && echo --compress=zstd)
  for ms in $LATENCY_MS; do
    local url="$server/$db" at=""
    if [ "$ms" != 0 ]; then
      local pport; pport=$(free_port)
      JAVA_TOOL_OPTIONS= java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "$root/bench/LatencyProxy.java" "$pport" "127.0.0.1:$pg_port" "$ms" "$WINDOW" 2>"$work/proxy.log" & proxy_pid=$!
      pids+=("$proxy_pid")
      url="postgresql://postgres:bench@127.0.0.1:$pport/$db"; at=" @ $ms ms RTT"
      for _ in $(seq 100); do psql -d "$url" -c 'select 1' >/dev/null 2>&1 && break; sleep 0.3; done
    fi
    echo " latency: ${ms} ms RTT$([ "$ms" != 0 ] && echo ", window $WINDOW bytes per direction (bench/LatencyProxy.java)")"
    for run in $(seq "$RUNS"); do
      measure "$size" "pg_dump -Fc > /dev/null$at" "$bin/pg_dump -Fc $z -d '$url' > /dev/null"
      measure "$size" "pg_dump -Fd -j 2 to a local directory$at" \
        "rm -rf '$work/dir.d'; $bin/pg_dump -Fd -j 2 $z -d '$url' -f '$work/dir.d' && du -sb '$work/dir.d' | cut -f1 > '$work/disk.txt'"
      rm -rf "$work/dir.d"
      measure "$size" "backup, one stream$at" "jbang backup.java --json --database-url '$url' --name $db-one --pg-dump $bin/pg_dump --parallel 1"
      measure "$size" "backup --parallel 2$at" "jbang backup.java --json --database-url '$url' --name $db-par2 --pg-dump $bin/pg_dump --parallel 2 --spool '$work'"
    done
    if [ -n "$proxy_pid" ]; then
      echo "  (the proxy's own CPU: $(cpu_of "$proxy_pid") s, on the same cores)"
      kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=
    fi
  done
  echo "restore" | grep -Eq -- "$ONLY" || return 0
  # Restores use the server's own major (pg_dump/pg_restore 15, gzip): pg_restore 17 sends SET transaction_timeout,
  # which a 15 server refuses, and pg_restore 15 cannot read pg_dump 17's archives. Preparing the dumps is not timed.
  local url="$server/$db" flags="--exit-on-error --no-owner --no-acl"
  if ! aws s3 ls "s3://$S3_BUCKET/pg-backups/$db-restore/" >/dev/null 2>&1; then
    jbang backup.java --database-url "$url" --name "$db-restore" --pg-dump "$pgbin/pg_dump" --parallel 2 --spool "$work" 2>/dev/null
  fi
  rm -rf "$work/dir.d"; "$pgbin/pg_dump" -Fd -j 2 -d "$url" -f "$work/dir.d"
  for run in $(seq "$RUNS"); do
    psql -d "$server/postgres" -c "drop database if exists restored with (force)" -c "create database restored"
    measure "$size" "pg_restore -Fd -j 2, local directory" "$pgbin/pg_restore $flags --jobs 2 -d '$server/restored' '$work/dir.d'"
    psql -d "$server/postgres" -c "drop database if exists restored with (force)" -c "create database restored"
    measure "$size" "restore.java --jobs 2 of a --parallel 2 backup (from S3)" \
      "jbang restore.java --name $db-restore --jobs 2 --target-url '$server/restored' --pg-restore $pgbin/pg_restore"
    # --create: restore makes the database itself and pipelines (each data file restored once its SHA-256 is proven).
    psql -d "$server/postgres" -c "drop database if exists restored with (force)"
    measure "$size" "restore.java --jobs 2 --create of a --parallel 2 backup (pipelined)" \
      "jbang restore.java --name $db-restore --jobs 2 --create --target-url '$server/restored' --pg-restore $pgbin/pg_restore"
  done
  psql -d "$server/postgres" -c "drop database if exists restored with (force)"
  rm -rf "$work/dir.d"
}

# --- MODE=startup: what every run pays once (JBang's launcher, JVM start, class loading, the JIT), per JVM setting.
# A first run of each setting is not measured: it builds the jar for that JDK and trains the CDS archive / AOT cache.
startup_contenders() { # SIZE DB
  local size=$1 db=$2 jdk25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64} aot=$work/backup.aot
  local -a settings=("JDK 17||" "JDK 17, jbang --cds||--cds" "JDK 17, -XX:TieredStopAtLevel=1||--runtime-option=-XX:TieredStopAtLevel=1")
  if [ -x "$jdk25/bin/java" ]; then
    settings+=("JDK 25|$jdk25|" "JDK 25, jbang --cds|$jdk25|--cds" "JDK 25, -XX:AOTCache|$jdk25|--runtime-option=-XX:AOTCache=$aot")
  fi
  local backup="--database-url '$server/$db' --name $db-startup --pg-dump ${pg17:-$pgbin}/pg_dump"
  local s label home flags
  for s in "${settings[@]}"; do
    IFS='|' read -r label home flags <<<"$s"
    echo "$label" | grep -Eq -- "$ONLY" || continue
    if [[ $flags == *AOTCache* ]]; then  # JDK 25 (JEP 514): one training run writes the cache
      rm -f "$aot"; eval "JAVA_HOME=$home jbang --runtime-option=-XX:AOTCacheOutput='$aot' backup.java $backup" >/dev/null 2>&1
    else
      eval "JAVA_HOME=$home jbang $flags backup.java $backup" >/dev/null 2>&1
    fi
  done
  for run in $(seq "$RUNS"); do
    for s in "${settings[@]}"; do
      IFS='|' read -r label home flags <<<"$s"
      measure "$size" "$label: backup --version" "JAVA_HOME=$home jbang $flags backup.java --version"
      measure "$size" "$label: backup of ~10 MB" "JAVA_HOME=$home jbang $flags backup.java --json $backup"
    done
  done
}

declare -A dbsize gzsize
for size in $SIZES; do
  db=bench_${size//./_}g
  # --- Dataset, about SIZE GB on disk: pgbench tables (scale 28 per GB, ~40%) and a table of documents (800k rows per
  # GB, ~60%: text drawn from a vocabulary, jsonb, incompressible bytea like thumbnails, timestamps), so that the dump
  # compresses about 4:1 like real data. Deterministic (setseed, hashes), so every machine dumps the same bytes. Not timed.
  if [ "$(psql -d "$server/postgres" -A -t -c "select count(*) from pg_database where datname = '$db'")" = 0 ]; then
    echo "== creating $db (~$size GB; not timed)"
    scale=$(python3 -c "print(max(1, round($size * 28)))"); rows=$(python3 -c "print(int($size * 800000))")
    psql -d "$server/postgres" -c "drop database if exists ${db}_loading" -c "create database ${db}_loading"
    "$pgbin/pgbench" -q -i -s "$scale" -d "$server/${db}_loading" >/dev/null 2>&1
    psql -d "$server/${db}_loading" <<SQL
create table documents (id bigint primary key, title text, body text, attrs jsonb, thumbnail bytea, created_at timestamptz);
select setseed(0.42) \gset
with w as (select string_to_array('the of and to in is for on that with invoice order customer shipment payment refund account'
  || ' delivery address product price total discount status pending approved rejected warehouse supplier contract quantity unit'
  || ' tax currency euro dollar monday tuesday note please thanks regards update request ticket issue resolved priority high low'
  || ' medium agent email phone call meeting review report quarter annual budget forecast sales region north south east west team'
  || ' manager project deadline', ' ') a)
insert into documents
select g,
       'Document ' || g || ' about ' || w.a[1 + g % array_length(w.a, 1)],
       (select string_agg(w.a[1 + floor(random() * array_length(w.a, 1) + i * 0)::int], ' ') from generate_series(1, 5 + g % 90) i)
         || ' ' || (random() * 1e6)::int,
       jsonb_build_object('customer', (random() * 50000)::int, 'tags', jsonb_build_array('t' || g % 7, 't' || g % 13),
                          'score', round((random() * 100)::numeric, 2), 'ref', md5(g::text)),
       (select string_agg(sha256(int8send(g * 64 + i)), ''::bytea) from generate_series(1, 1 + g % 8) i),
       timestamptz '2024-01-01' + (random() * 3e7 || ' seconds')::interval
from generate_series(1, $rows) g, w;
vacuum analyze;
SQL
    # Renamed only when complete: an interrupted creation is never mistaken for a dataset.
    psql -d "$server/postgres" -c "alter database ${db}_loading rename to $db"
  fi
  if [ -n "${PREPARE_ONLY:-}" ]; then echo "== $db ready"; continue; fi
  dbsize[$size]=$(psql -d "$server/$db" -A -t -c "select pg_database_size(current_database())")
  url="$server/$db"
  echo "== $db: $((dbsize[$size] / 1048576)) MB on disk; $RUNS runs of each contender, alternating"
  if [ "$MODE" = parallel ]; then parallel_contenders "$size" "$db"; continue; fi
  if [ "$MODE" = startup ]; then startup_contenders "$size" "$db"; continue; fi
  for run in $(seq "$RUNS"); do
    echo " run $run of $RUNS"
    measure "$size" "pg_dump -Fc (gzip) > /dev/null" "$pgbin/pg_dump -Fc -d '$url' > /dev/null"
    measure "$size" "Neon guide: pg_dump -Fc file, then aws s3 cp" "$pgbin/pg_dump -Fc -d '$url' -f '$work/dump.file' && aws s3 cp --only-show-errors '$work/dump.file' s3://$S3_BUCKET/neon/$db.dump; rm -f '$work/dump.file'"
    measure "$size" "shell: pg_dump -Fc | aws s3 cp -" "$pgbin/pg_dump -Fc -d '$url' | aws s3 cp --only-show-errors - s3://$S3_BUCKET/stream/$db.dump"
    measure "$size" "backup.java (gzip, pg_dump 15)" "jbang backup.java --json --database-url '$url' --name $db-gzip --pg-dump $pgbin/pg_dump"
    if [ -n "$pg17" ]; then
      measure "$size" "pg_dump 17 -Fc --compress=zstd > /dev/null" "$pg17/pg_dump -Fc --compress=zstd -d '$url' > /dev/null"
      measure "$size" "backup.java (default: zstd, pg_dump 17)" "jbang backup.java --json --database-url '$url' --name $db-zstd --pg-dump $pg17/pg_dump"
    fi
    measure "$size" "JBang + JVM start alone (backup.java --version)" "jbang backup.java --version"
    # Issue 21: the directory format, 2 workers, to local disk vs streamed to S3 (backup --parallel prints its peak spool).
    measure "$size" "pg_dump -Fd -j 2 (gzip) to a local directory" "rm -rf '$work/dir.d'; $pgbin/pg_dump -Fd -j 2 -d '$url' -f '$work/dir.d'"
    rm -rf "$work/dir.d"
    measure "$size" "backup.java --parallel 2 (gzip, pg_dump 15)" "jbang backup.java --json --database-url '$url' --name $db-par --pg-dump $pgbin/pg_dump --parallel 2 --spool '$work' && grep -o 'peak spool [^,]*' '$work/last.err' >&2 || true"
  done
  echo "restore pg_restore" | grep -Eq -- "$ONLY" || continue
  # Restore: the same gzip dump, from a local file with pg_restore vs from S3 with restore.java (which downloads to a
  # temp file, checks size and SHA-256, lists the archive, then runs pg_restore with these same flags).
  "$pgbin/pg_dump" -Fc -d "$url" -f "$work/dump.file"
  gzsize[$size]=$(stat -c %s "$work/dump.file")
  if echo restore | grep -Eq -- "$ONLY" && ! aws s3 ls "s3://$S3_BUCKET/pg-backups/$db-gzip/" >/dev/null 2>&1; then
    jbang backup.java --database-url "$url" --name "$db-gzip" --pg-dump "$pgbin/pg_dump" 2>/dev/null
  fi
  if echo "restore parallel" | grep -Eq -- "$ONLY" && ! aws s3 ls "s3://$S3_BUCKET/pg-backups/$db-par/" >/dev/null 2>&1; then
    jbang backup.java --database-url "$url" --name "$db-par" --pg-dump "$pgbin/pg_dump" --parallel 2 --spool "$work" 2>/dev/null
  fi
  rm -rf "$work/dir.d"; "$pgbin/pg_dump" -Fd -j 2 -d "$url" -f "$work/dir.d"
  flags="--exit-on-error --no-owner --no-acl"
  for run in $(seq "$RUNS"); do
    echo " restore run $run of $RUNS"
    for contender in 1 2 3 4 5 6 7 8; do
      psql -d "$server/postgres" -c "drop database if exists restored with (force)"
      # 8 creates the database itself (--create): the pipelined restore (lib/PipelinedRestore); 7 restores into an existing one.
      [ "$contender" = 8 ] || psql -d "$server/postgres" -c "create database restored"
      case $contender in
        1) measure "$size" "pg_restore --single-transaction, local file" "$pgbin/pg_restore $flags --single-transaction -d '$server/restored' '$work/dump.file'" ;;
        2) measure "$size" "restore.java (from S3)" "jbang restore.java --name $db-gzip --target-url '$server/restored' --pg-restore $pgbin/pg_restore" ;;
        3) measure "$size" "restore.java --stream (from S3)" "jbang restore.java --stream --name $db-gzip --target-url '$server/restored' --pg-restore $pgbin/pg_restore" ;;
        4) measure "$size" "pg_restore --jobs 2, local file" "$pgbin/pg_restore $flags --jobs 2 -d '$server/restored' '$work/dump.file'" ;;
        5) measure "$size" "restore.java --jobs 2 (from S3)" "jbang restore.java --name $db-gzip --jobs 2 --target-url '$server/restored' --pg-restore $pgbin/pg_restore" ;;
        6) measure "$size" "pg_restore -Fd --jobs 2, local directory" "$pgbin/pg_restore $flags --jobs 2 -d '$server/restored' '$work/dir.d'" ;;
        7) measure "$size" "restore.java --jobs 2 of a --parallel backup (from S3)" "jbang restore.java --name $db-par --jobs 2 --target-url '$server/restored' --pg-restore $pgbin/pg_restore" ;;
        8) measure "$size" "restore.java --jobs 2 --create of a --parallel backup (pipelined)" "jbang restore.java --name $db-par --jobs 2 --create --target-url '$server/restored' --pg-restore $pgbin/pg_restore && grep -o 'peak temp disk [^(]*' '$work/last.err' >&2 || true" ;;
      esac
    done
  done
  psql -d "$server/postgres" -c "drop database if exists restored with (force)"
  rm -f "$work/dump.file"; rm -rf "$work/dir.d"
done

[ -n "${PREPARE_ONLY:-}" ] && exit 0
if [ "$MODE" = parallel ] || [ "$MODE" = startup ]; then
  out=$root/bench/results/$(date -u +%Y-%m-%d-%H%M)-$MODE.md
  python3 "$root/bench/report-parallel.py" "$results" "$out" \
    "$(for s in $SIZES; do printf '%s=%s,' "$s" "${dbsize[$s]:-}"; done)" "$("${pg17:-$pgbin}/pg_dump" --version | awk '{print $3}')" \
    "MODE=$MODE SIZES=\"$SIZES\" RUNS=$RUNS$([ "$MODE" = parallel ] && echo " LATENCY_MS=\"$LATENCY_MS\" WINDOW=$WINDOW")$([ "$ONLY" = . ] || printf " ONLY='%s'" "$ONLY") bash bench/run.sh"
  echo "Written to $out"; exit 0
fi
# --- Report: median and min-max per contender and size, ratios to the baselines.
out=$root/bench/results/$(date -u +%Y-%m-%d-%H%M).md
python3 "$root/bench/report.py" "$results" "$out" "${SIZES}" \
  "$(for s in $SIZES; do printf '%s=%s=%s,' "$s" "${dbsize[$s]:-}" "${gzsize[$s]:-}"; done)" \
  "$("$pgbin/pg_dump" --version | awk '{print $3}')" "$([ -n "$pg17" ] && "$pg17/pg_dump" --version | awk '{print $3}')" \
  "SIZES=\"$SIZES\" RUNS=$RUNS$([ "$ONLY" = . ] || printf " ONLY='%s'" "$ONLY") bash bench/run.sh"
echo "Written to $out"
