#!/usr/bin/env bash
# Runs the PyTorch peer benchmark; arguments go to bert_base_peer.py (see bench/peer/README.md).
# PEER_PYTHON: the Python with torch and transformers (default: /work/peer-venv/bin/python).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PEER_PYTHON:-/work/peer-venv/bin/python}" "$here/bert_base_peer.py" "$@"
