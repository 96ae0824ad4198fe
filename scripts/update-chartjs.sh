#!/usr/bin/env bash
# Vendor Chart.js into the staff panel (l2b2_panel/web/vendor/), from the npm registry, at a pinned version.
#
#   scripts/update-chartjs.sh            # fetch the pinned version again (checks it is byte for byte the same)
#   scripts/update-chartjs.sh 4.6.3      # move the pin to another exact version
#
# The pin is l2b2_panel/web/vendor/vendor.json: the version, the npm tarball's integrity (sha512) and the
# sha256 of the vendored file. `npm pack` downloads the tarball and checks it against the registry's
# integrity; for the pinned version it must also equal the recorded one (a re-published or tampered
# package stops here). The UMD build (dist/chart.umd.min.js, no eval, no network access of its own) and
# the licence are copied unchanged. Needs node and npm; afterwards run
#   .venv/bin/python -m pytest -q test/l2b2_panel/test_panel_figures.py
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/l2b2_panel/web/vendor"
PIN="$VENDOR/vendor.json"
FILE=chart.umd.min.js

command -v npm >/dev/null || { echo "update-chartjs: npm is needed (Node.js 20 or newer)" >&2; exit 1; }
pinned=$(node -e 'console.log(require(process.argv[1])["chart.js"].version)' "$PIN")
pinned_integrity=$(node -e 'console.log(require(process.argv[1])["chart.js"].integrity)' "$PIN")
version="${1:-$pinned}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "update-chartjs: \"$version\" is not an exact version (x.y.z): the panel pins one release" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --json --silent "chart.js@$version" > pack.json)
integrity=$(node -e 'console.log(require(process.argv[1])[0].integrity)' "$work/pack.json")
tarball=$(node -e 'console.log(require(process.argv[1])[0].filename)' "$work/pack.json")
if [ "$version" = "$pinned" ] && [ "$integrity" != "$pinned_integrity" ]; then
  echo "update-chartjs: chart.js@$version from the registry has integrity $integrity," >&2
  echo "  but $PIN pins $pinned_integrity: not copied" >&2
  exit 1
fi
tar -xzf "$work/$tarball" -C "$work" package/dist/$FILE package/LICENSE.md package/package.json
got=$(node -e 'console.log(require(process.argv[1]).version)' "$work/package/package.json")
[ "$got" = "$version" ] || { echo "update-chartjs: the tarball is chart.js $got, not $version" >&2; exit 1; }
head -c 300 "$work/package/dist/$FILE" | grep -q "Chart.js v$version" \
  || { echo "update-chartjs: dist/$FILE does not name Chart.js v$version in its banner" >&2; exit 1; }

install -m 0644 "$work/package/dist/$FILE" "$VENDOR/$FILE"
install -m 0644 "$work/package/LICENSE.md" "$VENDOR/LICENSE.chartjs.md"
sha=$(sha256sum "$VENDOR/$FILE" | cut -d' ' -f1)
node -e '
  const fs = require("fs");
  const [pin, version, integrity, sha, file] = process.argv.slice(1);
  const data = JSON.parse(fs.readFileSync(pin, "utf8"));
  data["chart.js"] = {...data["chart.js"], version, integrity, sha256: sha, file};
  fs.writeFileSync(pin, JSON.stringify(data, null, 2) + "\n");
' "$PIN" "$version" "$integrity" "$sha" "$FILE"
echo "chart.js $version -> $VENDOR/$FILE ($(stat -c %s "$VENDOR/$FILE") bytes, sha256 $sha)"
[ "$version" = "$pinned" ] || echo "pin moved $pinned -> $version: update the version in $VENDOR/README.md and docs/panel.md"
