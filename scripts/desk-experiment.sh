#!/usr/bin/env bash
# The simulated desk of BENCHMARKS.md ("Human in the loop"): a group of PTC train articles that the
# shipped encoder never saw plays a newsroom's beat. Its first half is exported with the shipped
# model's predictions, "corrected" to the gold labels through Label Studio's export format and
# imported back; rhetor is retrained on them; both models are scored on the unseen second half.
#
#   scripts/desk-experiment.sh [WORK_DIR]        (default /tmp/rhetor-desk; needs ../shared)
#
# DESK (default 30) articles are taken from the 74 of `train --holdout 5` (every 5th by id), the
# fold the shipped encoder was not trained on; alternate ones go to the corrections and the test
# (SWAP=1 swaps the two halves: a second, independent estimate).
set -euo pipefail
work=${1:-/tmp/rhetor-desk}
ptc=${RHETOR_SHARED:-../shared}/data/ptc
rhetor=${RHETOR:-./target/release/rhetor}
desk=${DESK:-30}
epochs=${EPOCHS:-3}
swap=${SWAP:-0}
mkdir -p "$work"
rm -rf "$work"/{rest,desk-a,desk-b,corrected}
mkdir -p "$work"/{rest,desk-a,desk-b}

# The split: articles by id; every 5th (index 4, 9, ...) is unseen by the shipped encoder.
python3 - "$ptc" "$work" "$desk" "$swap" <<'PY'
import os, sys
ptc, work, desk, swap = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
ids = sorted((f[7:-4] for f in os.listdir(f"{ptc}/train-articles") if f.startswith("article")), key=int)
unseen = [a for i, a in enumerate(ids) if i % 5 == 4][:desk]
a, b = unseen[0::2], unseen[1::2]
if swap:
    a, b = b, a
part = {i: "rest" for i in ids} | {i: "desk-a" for i in a} | {i: "desk-b" for i in b}
for i, p in part.items():
    os.symlink(os.path.abspath(f"{ptc}/train-articles/article{i}.txt"), f"{work}/{p}/article{i}.txt")
rows = {"rest": [], "desk-a": [], "desk-b": []}
for line in open(f"{ptc}/train-task2-TC.labels"):
    if line.strip():
        rows[part[line.split("\t")[0]]].append(line)
for p, r in rows.items():
    open(f"{work}/{p}.labels", "w").writelines(r)
print(f"rest {len(ids) - len(a) - len(b)} articles, corrections {len(a)}, test {len(b)}")
PY

# 1. Export the corrections half with the shipped model's predictions.
$rhetor export-tasks --format label-studio --articles "$work/desk-a" --out "$work/tasks.json" --order uncertainty
# 2. The desk corrects: each task gets an annotation, the gold spans (predictions left as they were).
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
tasks = json.load(open(f"{work}/tasks.json"))
gold = {}
for line in open(f"{work}/desk-a.labels"):
    i, t, s, e = line.rstrip("\n").split("\t")
    gold.setdefault(i, []).append((t, int(s), int(e)))
for task in tasks:
    text = task["data"]["text"]
    result = [{"id": f"g{k}", "from_name": "label", "to_name": "text", "type": "labels",
               "value": {"start": s, "end": e, "text": text[s:e], "labels": [t]}}
              for k, (t, s, e) in enumerate(gold.get(task["data"]["id"], []))]
    task["annotations"] = [{"id": 1, "result": result, "was_cancelled": False}]
json.dump(tasks, open(f"{work}/export.json", "w"), ensure_ascii=False)
PY
# 3. Import the corrections.
$rhetor import-annotations --label-studio "$work/export.json" \
    --out-articles "$work/corrected" --out-labels "$work/corrected.labels"
cmp <(sort "$work/corrected.labels") <(sort -u "$work/desk-a.labels") && echo "corrections = gold rows"

score() { $rhetor eval --gold "$work/desk-b.labels" --pred "$1" --json; }

# 4. Fast tier: PTC minus the desk, without and with the corrections (weight 2).
$rhetor train --articles "$work/rest" --labels "$work/rest.labels" --out "$work/fast-base.rhm"
$rhetor train --articles "$work/rest" --labels "$work/rest.labels" \
    --articles "$work/corrected" --labels "$work/corrected.labels" --weight 2 --out "$work/fast-desk.rhm"
for m in fast-base fast-desk; do
    $rhetor predict --model "$work/$m.rhm" --articles "$work/desk-b" --out "$work/$m.tsv"
    echo "$m $(score "$work/$m.tsv")"
done

# 5. Accurate tier: the shipped encoder, and the shipped encoder fine-tuned further on the corrections.
$rhetor train --from accurate --articles "$work/corrected" --labels "$work/corrected.labels" \
    --epochs "$epochs" --lr 3e-5 --head-lr 3e-4 --out "$work/accurate-desk.rhn"
# Flattered: the built-in fast model beside the encoder was trained on all 371 articles, test half
# included.
$rhetor predict --articles "$work/desk-b" --out "$work/accurate-base.tsv"
$rhetor predict --model "$work/accurate-desk.rhn" --articles "$work/desk-b" --out "$work/accurate-desk.tsv"
# Clean: each encoder beside a fast model from step 4, which never saw the test half.
$rhetor predict --fast "$work/fast-base.rhm" --articles "$work/desk-b" --out "$work/clean-base.tsv"
$rhetor predict --model "$work/accurate-desk.rhn" --fast "$work/fast-base.rhm" \
    --articles "$work/desk-b" --out "$work/clean-encoder.tsv"
$rhetor predict --model "$work/accurate-desk.rhn" --fast "$work/fast-desk.rhm" \
    --articles "$work/desk-b" --out "$work/clean-both.tsv"
for m in accurate-base accurate-desk clean-base clean-encoder clean-both; do
    echo "$m $(score "$work/$m.tsv")"
done
