#!/usr/bin/env bash
# Load test of `rhetor serve` on loopback: wrk POSTs real PTC articles to /api/analyze for a bounded
# time at a few concurrency levels, then reports the server's peak RSS (VmHWM).
#
#   crates/rhetor-server/bench/load.sh [SECONDS] [CONNECTIONS...]     (defaults: 20 s; 2 4 8 32)
#
# Needs curl, wrk (apt-get install wrk) and the PTC test articles in ../shared/data/ptc/test-articles (or $RHETOR_SHARED/data/ptc/test-articles).
set -euo pipefail
cd "$(dirname "$0")/../../.."
secs=${1:-20}
shift || true
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(2 4 8 32)
export ARTICLES=${ARTICLES:-${RHETOR_SHARED:-$PWD/../shared}/data/ptc/test-articles}
port=${PORT:-18080}

# RHETOR names a prebuilt binary; by default the release build of this checkout.
if [ -z "${RHETOR:-}" ]; then
  cargo build --release --quiet --bin rhetor
  RHETOR=./target/release/rhetor
fi
tmp=$(mktemp -d)
"$RHETOR" serve --model "${RHETOR_MODEL:-fast}" --addr "127.0.0.1:$port" --db "$tmp/bench.db" 2>"$tmp/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "articles: $(ls "$ARTICLES" | wc -l) in $ARTICLES ($(cat "$ARTICLES"/*.txt | wc -c) bytes)"
echo "server RSS at start: $(grep VmRSS /proc/$pid/status | awk '{print $2, $3}')"
for c in "${levels[@]}"; do
  echo
  echo "== $c connections, ${secs}s"
  wrk -t2 -c"$c" -d"${secs}s" --timeout 30s --latency -s crates/rhetor-server/bench/analyze.lua \
    "http://127.0.0.1:$port/api/analyze" | grep -E 'Requests/sec|Transfer/sec|requests in|Non-2xx|Socket errors|^ +(50|75|90|99)%|Latency '
  echo "server peak RSS so far: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
done
