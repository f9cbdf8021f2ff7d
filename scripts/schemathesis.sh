#!/usr/bin/env bash
# Runs schemathesis (PyPI) against the OpenAPI document of a live
# `edgesplit serve` on loopback with a temporary job store, bounded in time:
# no request may get a 5xx. Usage: scripts/schemathesis.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-${CARGO_TARGET_DIR:-target}/release/edgesplit}"
PY="${PYTHON:-python3}"
"$PY" -c "import schemathesis" >/dev/null 2>&1 ||
  "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore schemathesis
ST="$(command -v schemathesis || echo "$PY -m schemathesis.cli")"
dir="$(mktemp -d)"
out="$dir/stdout"
"$BIN" serve --addr 127.0.0.1:0 --db "$dir/jobs.db" --workers 2 --max-time-limit 5 >"$out" 2>"$dir/server.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  grep -q '^listening on ' "$out" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$out")"
[ -n "$url" ] || { echo "schemathesis: the server did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
echo "schemathesis against $url/v1/openapi.json" >&2
timeout 600 $ST run "$url/v1/openapi.json" \
  --checks not_a_server_error \
  --max-examples 30 \
  --request-timeout 30
kill -0 "$pid" # the server is still up
