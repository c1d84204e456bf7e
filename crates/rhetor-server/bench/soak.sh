#!/usr/bin/env bash
# Soak and overload of `rhetor serve` on loopback (issue #16): the sustained rate in a closed loop,
# then twice that rate, open loop, for 10 minutes, with the answers, latency percentiles and the
# server's RSS every minute (examples/soak.rs). Exits 1 when a request failed (anything but 200 and
# the documented 503) or RSS grew 10% or more from minute 1 to the last.
#
#   crates/rhetor-server/bench/soak.sh            (MINUTES=10 FACTOR=2 MEASURE_S=15 by default)
#
# Needs curl and the PTC test articles in ../shared/data/ptc/test-articles (or
# $RHETOR_SHARED/data/ptc/test-articles). RHETOR_MODEL=accurate soaks the default tier.
set -euo pipefail
cd "$(dirname "$0")/../../.."
articles=${ARTICLES:-${RHETOR_SHARED:-$PWD/../shared}/data/ptc/test-articles}
port=${PORT:-18081}
cargo build --release --quiet --bin rhetor -p rhetor-cli
cargo build --release --quiet -p rhetor-server --example soak
tmp=$(mktemp -d)
./target/release/rhetor serve --model "${RHETOR_MODEL:-fast}" --addr "127.0.0.1:$port" --db "$tmp/soak.db" 2>"$tmp/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); model ${RHETOR_MODEL:-fast}"
echo "server RSS at start: $(grep VmRSS /proc/$pid/status | awk '{print $2, $3}')"
echo
status=0
./target/release/examples/soak "http://127.0.0.1:$port" "$pid" "$articles" || status=$?
echo "server peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
exit $status
