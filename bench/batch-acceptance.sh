#!/usr/bin/env bash
# The acceptance run of `rhetor batch` (issue #12): N JSONL records (the PTC test articles repeated
# with new ids) through `batch --model fast --out`, killed with kill -9 KILLS times at random moments
# and resumed each time; then checks that every id is there exactly once, in input order, and every
# line parses; then times an uninterrupted `batch` against `predict --model fast` on the same texts.
#
#   bench/batch-acceptance.sh [N=100000] [KILLS=3] [WORK=/tmp/rhetor-batch-acceptance]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}; kills=${2:-3}; work=${3:-/tmp/rhetor-batch-acceptance}
articles=${RHETOR_SHARED:-../shared}/data/ptc/test-articles
bin=${CARGO_TARGET_DIR:-target}/release/rhetor
[ -x "$bin" ] || cargo build --release --quiet
mkdir -p "$work"
python3 - "$articles" "$n" "$work/in.jsonl" <<'PY'
import json, pathlib, sys
src, n, out = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
texts = [p.read_text(encoding="utf-8") for p in sorted(src.glob("article*.txt"))]
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"r{i:06d}", "text": texts[i % len(texts)], "outlet": "ptc"}) + "\n")
PY
rm -f "$work/out.jsonl" "$work/out.jsonl.rhetor-journal"
for k in $(seq "$kills"); do
  "$bin" batch --model fast "$work/in.jsonl" --out "$work/out.jsonl" --resume 2>/dev/null &
  pid=$!
  sleep "$(python3 -c "import random; print(round(random.uniform(2, 12), 1))")"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "kill $k: $(wc -l < "$work/out.jsonl") lines on disk"
done
/usr/bin/time -f "resumed run: %e s, peak RSS %M KB" \
  "$bin" batch --model fast "$work/in.jsonl" --out "$work/out.jsonl" --resume
python3 - "$n" "$work/out.jsonl" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
ids = [json.loads(l)["id"] for l in open(path, encoding="utf-8")]
assert ids == [f"r{i:06d}" for i in range(n)], "ids missing, repeated or out of order"
print(f"{len(ids)} lines, every id exactly once, in input order, every line parses")
PY
# Throughput: an uninterrupted batch against predict on the same texts (as files).
mkdir -p "$work/files"
python3 - "$work/in.jsonl" "$work/files" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[2])
for i, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    r = json.loads(l)
    (d / f"article{i}.txt").write_text(r["text"], encoding="utf-8")
PY
/usr/bin/time -f "predict --model fast: %e s, peak RSS %M KB" \
  "$bin" predict --model fast --articles "$work/files" --out "$work/predict.tsv" 2>&1 | grep -v "^[0-9]* articles"
rm -f "$work/plain.jsonl"
/usr/bin/time -f "batch --model fast: %e s, peak RSS %M KB" \
  "$bin" batch --model fast "$work/in.jsonl" --out "$work/plain.jsonl" 2>&1 | tail -n 2
