#!/usr/bin/env bash
# Regenerate requirements/constraints.txt from the current venv, so a fresh machine gets the same stack.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
{ echo "# Pins for every Python package in the venv (regenerate: scripts/freeze.sh)."
  "$ROOT/.venv/bin/pip" freeze --exclude-editable 2>/dev/null | grep -v -i -e '^-e' -e '^l2b2' -e '^nav2-msgs' -e '^tf2-msgs' | sort -f
} > "$ROOT/requirements/constraints.txt"
