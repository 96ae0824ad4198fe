#!/usr/bin/env bash
# Dialogue: train the learned intent layer once and cache it (~/.cache/l2b2, keyed by a hash of its training
# data), so nodes and tests start with the model instead of the rules alone while a background thread trains.
# Deterministic and offline. A stamp of the training inputs makes a rerun instant.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
stamp="$ROOT/.venv/.l2b2-learned-intents"
inputs=$(cat "$ROOT/test/data/utterances_dev.tsv" "$ROOT/l2b2_dialogue/lexicon.yaml" "$ROOT/config/departments.yaml" \
  "$ROOT"/l2b2_dialogue/learned.py | sha256sum | cut -d' ' -f1)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/l2b2"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ] && [ -d "$cache" ]; then
  exit 0
fi
"$PY" -c 'from l2b2_dialogue.nlu import Understander; Understander(learned=True)' >/dev/null
echo "$inputs" > "$stamp"
