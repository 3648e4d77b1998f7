#!/usr/bin/env bash
# Starts gatehouse on its embedded store for local use. On first run it makes
# a random bootstrap admin token in gatehouse-data/admin-token (mode 0600).
set -euo pipefail
bin=${1:-bin/gatehouse}
data=${GATEHOUSE_DATA_DIR:-./gatehouse-data}
mkdir -p "$data"
tokfile="$data/admin-token"
if [ ! -s "$tokfile" ]; then
  (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$tokfile")
  echo "created a bootstrap admin token in $tokfile"
fi
cat <<MSG
gatehouse admin CLI, from another shell:
  export GATEHOUSE_TOKEN=\$(cat $tokfile)
  $bin users create --email alice@example.com --name "Alice Doe"
  $bin users list
MSG
exec "$bin" serve --data-dir "$data" --admin-token-file "$tokfile" --log-format text "${@:2}"
