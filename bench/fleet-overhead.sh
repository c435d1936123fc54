#!/usr/bin/env bash
# What one more database costs a fleet run, and what one more process (a leg) costs: backup of 1 and of N small
# databases (one table of ROWS rows each) from a throwaway local cluster into a local moto S3, timed with
# /usr/bin/time (wall, and CPU of backup and every child: java, psql, pg_dump, pg_restore's read-back).
#
#   bash bench/fleet-overhead.sh                 # N=20 databases, ROWS=1000, --jobs 1 and 4
#   N=40 ROWS=10000 bash bench/fleet-overhead.sh
#
# per database = (time of N - time of 1) / (N - 1); per process = time of 1 - per database. docs/fleet.md#cost-per-night-in-runner-minutes
# turns them into runner minutes. Run it on an idle machine: on a loaded one wall times grow, CPU times less so.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v jbang >/dev/null 2>&1 || export PATH="$root/tools:$PATH"
N=${N:-20}
ROWS=${ROWS:-1000}
pgbin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/fleet-overhead.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
moto_pid=
cleanup() {
  as_pg "$pgbin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

pg_port=$(free_port)
printf 'bench\n' > "$work/pw"
[ "$(id -u)" = 0 ] && chown -R postgres "$work"
as_pg "$pgbin/initdb" -D "$work/data" -U postgres --auth=scram-sha-256 --pwfile="$work/pw" -E UTF8 --locale=C >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
server="postgresql://postgres:bench@127.0.0.1:$pg_port"

s3_port=$(free_port)
moto_server -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
export AWS_ENDPOINT_URL="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
for _ in $(seq 50); do curl -fsS "$AWS_ENDPOINT_URL/" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS -X PUT "$AWS_ENDPOINT_URL/fleet-bench" >/dev/null

: > "$work/fleet-1.txt"
: > "$work/fleet-n.txt"
for i in $(seq "$N"); do
  PGPASSWORD=bench "$pgbin/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "create database tenant_$i" postgres
  PGPASSWORD=bench "$pgbin/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -c \
    "create table t (id int primary key, note text); insert into t select g, md5(g::text) from generate_series(1, $ROWS) g; analyze t;" "tenant_$i"
  echo "tenant-$i=$server/tenant_$i" >> "$work/fleet-n.txt"
  [ "$i" = 1 ] && echo "tenant-$i=$server/tenant_$i" >> "$work/fleet-1.txt"
done
jbang backup.java --help >/dev/null 2>&1 # build once, not timed

run() { # label, fleet file, jobs
  /usr/bin/time -f "%e %U %S" -o "$work/time" jbang backup.java --bucket fleet-bench --databases-file "$2" --jobs "$3" >/dev/null 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  read -r wall user sys < "$work/time"
  printf '%s %s %s\n' "$1" "$wall" "$(echo "$user + $sys" | bc)"
}
printf 'load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
{
  run "1" "$work/fleet-1.txt" 1
  run "$N" "$work/fleet-n.txt" 1
  run "$N-jobs4" "$work/fleet-n.txt" 4
} | tee "$work/results"
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
awk -v n="$N" '
  $1 == "1" { w1 = $2; c1 = $3 }
  $1 == n { wn = $2; cn = $3 }
  $1 == n "-jobs4" { w4 = $2 }
  END {
    pw = (wn - w1) / (n - 1); pc = (cn - c1) / (n - 1)
    printf "per database (--jobs 1): %.2f s wall, %.2f s CPU\n", pw, pc
    printf "per process (JVM, S3 client, preflight): %.2f s wall, %.2f s CPU\n", w1 - pw, c1 - pc
    printf "%d databases with --jobs 4: %.1f s wall (%.2f s each)\n", n, w4, w4 / n
  }' "$work/results"
