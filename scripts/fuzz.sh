#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/fuzz_targets) with cargo fuzz and libFuzzer: each for SECONDS (default
# 30) or until RUNS executions (default unlimited), whichever comes first, and prints one line per
# target with its executions. A crash, a hang (a run over 10 s) or an out-of-memory (over 2 GiB)
# stops the script with libFuzzer's report and the input in fuzz/artifacts/TARGET/.
#
#     scripts/fuzz.sh                    # every target, 30 s each (what .ci/run does)
#     scripts/fuzz.sh 1800 html api      # two targets, 30 minutes each
#     RUNS=10000000 scripts/fuzz.sh 1800 # 10^7 executions or 30 minutes, each target
#
# Needs the nightly toolchain (rustup's) and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# Working corpora grow in fuzz/corpus/TARGET (git-ignored), seeded from fuzz/seeds/TARGET.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "scripts/fuzz.sh needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
  exit 1
fi
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
runs=${RUNS:--1}
# Sanitizer: address by default; FUZZ_SANITIZER=none runs about twice as fast (the code is safe Rust
# but for SQLite and libFuzzer's own C++).
sanitizer=${FUZZ_SANITIZER:-address}
cargo +nightly fuzz build -a --sanitizer "$sanitizer"
status=0
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="artifacts/$t/last-run.log"
  echo "== $t: ${seconds}s${RUNS:+ or $runs runs}" >&2
  if cargo +nightly fuzz run -a --sanitizer "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 40 "$log" >&2
  fi
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || echo '?')
  secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1 | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo '?')
  units=$(ls "corpus/$t" | wc -l)
  summary+=("$(printf '%-18s %-7s %12s executions %6s s  corpus %5s' "$t" "$result" "$execs" "$secs" "$units")")
done
printf '%s\n' "${summary[@]}"
exit $status
