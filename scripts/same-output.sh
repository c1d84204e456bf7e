#!/usr/bin/env bash
# Refactoring guard: `predict` and `classify` over the 90 PTC test articles must give byte-identical
# rows, for both tiers, before and after a change that is not meant to move the models.
#
#   scripts/same-output.sh record   # write tests/baseline/*.tsv with the current build
#   scripts/same-output.sh          # compare the current build against tests/baseline/
#
# The classify input is every span the two tiers predicted (as `ID ? start end` rows, a span listed
# once per technique it got), so it covers spans listed k times. Needs ../shared (or RHETOR_SHARED); about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
articles=${PTC_TEST_ARTICLES:-${RHETOR_SHARED:-../shared}/data/ptc/test-articles}
[ -d "$articles" ] || { echo "same-output: $articles is missing (the PTC test articles)" >&2; exit 2; }
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/rhetor
base=tests/baseline
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for tier in accurate fast; do
  "$bin" predict --model "$tier" --articles "$articles" --out "$out/predict-$tier.tsv" 2>/dev/null
done
# Spans to classify come from the baseline predictions, so that both runs classify the same rows.
src=$out
[ "$mode" = record ] || src=$base
cat "$src/predict-accurate.tsv" "$src/predict-fast.tsv" | awk -F'\t' -v OFS='\t' '{print $1, "?", $3, $4}' > "$out/spans.tsv"
for tier in accurate fast; do
  "$bin" classify --model "$tier" --articles "$articles" --spans "$out/spans.tsv" --out "$out/classify-$tier.tsv" 2>/dev/null
done
files="predict-accurate.tsv predict-fast.tsv classify-accurate.tsv classify-fast.tsv"
if [ "$mode" = record ]; then
  mkdir -p "$base"
  for f in $files; do cp "$out/$f" "$base/$f"; done
  wc -l $(for f in $files; do echo "$base/$f"; done)
  exit 0
fi
status=0
for f in $files; do
  if cmp -s "$base/$f" "$out/$f"; then
    echo "same: $f ($(wc -l < "$out/$f") rows)"
  else
    echo "DIFFERENT: $f"; diff "$base/$f" "$out/$f" | head -40; status=1
  fi
done
exit $status
