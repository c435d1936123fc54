#!/usr/bin/env bash
# The newcomer's first command: the whole job end to end on this machine, against a throwaway PostgreSQL
# with sample data and a local S3 server: moto_server when installed (it also serves IAM, so setup-aws runs),
# else s3proxy, which JBang fetches from Maven Central (S3 only: the setup-aws step is shown, not run).
# Needs Java, JBang (or tools/jbang) and PostgreSQL server binaries. Each step prints the command a user would type.
#   bash tests/sandbox.sh            # keep nothing afterwards
#   KEEP=1 bash tests/sandbox.sh     # leave the cluster and emulator running to play with (prints how to stop)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v jbang >/dev/null 2>&1 || export PATH="$root/tools:$PATH"

pgbin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$pgbin/initdb" ] || { echo "sandbox: PostgreSQL server binaries not found: apt-get install postgresql-15 (or set PG_BIN)" >&2; exit 78; }
if command -v moto_server >/dev/null 2>&1; then s3=moto; else s3=s3proxy; fi

work=$(mktemp -d /tmp/pgdump-s3-sandbox.XXXXXX)
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  if [ -z "${KEEP:-}" ]; then
    as_pg "$pgbin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
    if [ -n "${s3_pid:-}" ]; then pkill -P "$s3_pid" 2>/dev/null || true; kill "$s3_pid" 2>/dev/null || true; fi
    rm -rf "$work"
  fi
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "== Starting a throwaway PostgreSQL and a local S3 server ($s3) in $work"
pg_port=$(free_port); s3_port=$(free_port)
export PGPASSWORD="sandbox-$(date +%s)"   # libpq tools and the scripts pick the password up from here
printf '%s\n' "$PGPASSWORD" > "$work/pw"
[ "$(id -u)" = 0 ] && chown -R postgres "$work"
as_pg "$pgbin/initdb" -D "$work/data" -U postgres --auth=scram-sha-256 --pwfile="$work/pw" -E UTF8 --locale=C >/dev/null
rm -f "$work/pw"
as_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
export S3_BUCKET=sandbox-pg-backups S3_PREFIX=pg-backups
if [ "$s3" = moto ]; then
  moto_server -H 127.0.0.1 -p "$s3_port" >"$work/s3.log" 2>&1 & s3_pid=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$s3_port/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
else
  # s3proxy's filesystem backend: a bucket is a directory, so creating it is mkdir (setup-aws needs IAM, which s3proxy lacks).
  mkdir -p "$work/s3/$S3_BUCKET"
  printf '%s\n' "s3proxy.endpoint=http://127.0.0.1:$s3_port" "s3proxy.authorization=aws-v2-or-v4" "s3proxy.identity=sandbox" \
    "s3proxy.credential=sandbox" "jclouds.provider=filesystem" "jclouds.filesystem.basedir=$work/s3" > "$work/s3proxy.conf"
  echo "(no moto_server here: starting s3proxy 4.1.0 through JBang; the first run downloads it from Maven Central, ~55 MB)"
  JAVA_TOOL_OPTIONS='' jbang --main org.gaul.s3proxy.Main org.gaul:s3proxy:4.1.0:jar-with-dependencies --properties "$work/s3proxy.conf" \
    >"$work/s3.log" 2>&1 & s3_pid=$!
  for _ in $(seq 600); do
    (echo > "/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break
    kill -0 "$s3_pid" 2>/dev/null || { echo "sandbox: s3proxy did not start:" >&2; tail -20 "$work/s3.log" >&2; exit 69; }
    sleep 0.3
  done
fi

export AWS_ENDPOINT_URL="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION=eu-central-1
server="postgresql://postgres@127.0.0.1:$pg_port"
export DATABASE_URL="$server/shop"

"$pgbin/psql" -X -q -d "$server/postgres" -c "create database shop"
"$pgbin/psql" -X -q -d "$DATABASE_URL" <<'SQL'
create table customers (id serial primary key, name text not null, profile jsonb);
create table orders (id serial primary key, customer_id int references customers, total numeric(10,2), placed_at timestamptz default now());
insert into customers (name, profile) select 'Customer ' || g, jsonb_build_object('vip', g % 10 = 0) from generate_series(1, 5000) g;
insert into orders (customer_id, total) select 1 + g % 5000, (g % 997) / 10.0 from generate_series(1, 20000) g;
analyze;
SQL
echo "Sample database 'shop' on $server (password in PGPASSWORD), S3 emulator on $AWS_ENDPOINT_URL"
echo "Settings come from the environment: DATABASE_URL, S3_BUCKET=$S3_BUCKET, S3_PREFIX=$S3_PREFIX, AWS_REGION=$AWS_REGION, AWS_ENDPOINT_URL"

echo; echo "== 1. One-time AWS setup: bucket, GitHub OIDC provider, IAM role"
if [ "$s3" = moto ]; then
  step jbang setup-aws.java --bucket "$S3_BUCKET" --github-repo your-org/your-repo
else
  printf '\n\033[1m$ %s\033[0m\n' "jbang setup-aws.java --bucket $S3_BUCKET --github-repo your-org/your-repo"
  echo "(not run here: s3proxy serves S3 but not IAM/STS; the bucket $S3_BUCKET was created directly. With moto_server installed,"
  echo " pip install 'moto[server]', this step runs against its IAM emulator.)"
fi

echo; echo "== 2. Nightly backup (twice, as two nights would)"
step jbang backup.java
sleep 1
step jbang backup.java

echo; echo "== 3. Retention: keep 7 days (the newest backup is always kept)"
step jbang prune.java --keep-days 7

echo; echo "== 4. Find, verify, drill and restore"
step jbang restore.java list
step jbang restore.java verify
step jbang restore.java drill --target-url "$server/postgres"
step jbang restore.java --target-url "$server/shop_restored" --create
"$pgbin/psql" -X -A -t -d "$server/shop_restored" -c "select 'restored: ' || count(*) || ' orders' from orders"

echo
if [ -n "${KEEP:-}" ]; then
  echo "Left running (KEEP=1). To stop: $pgbin/pg_ctl -D $work/data stop; pkill -P $s3_pid; kill $s3_pid; rm -rf $work"
else
  echo "Sandbox done; everything it started is stopped and removed."
fi
