#!/usr/bin/env bash
# Set up the l2b2 workspace from nothing, idempotently: Debian packages, the .venv with the pinned
# ROS 2 wheels and Python dependencies, our interface packages (built with plain cmake into the venv)
# and the l2b2 package itself. A second run only checks stamps and takes seconds.
#
#   scripts/setup.sh            # everything
#   L2B2_SKIP_APT=1 scripts/setup.sh   # no apt-get (packages installed another way)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMPS="$VENV/.l2b2-stamps"
BUILD="$ROOT/build"
PYTHON_BIN="${L2B2_PYTHON:-python3.11}"

step=""
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "l2b2 setup: FAILED at step \"$step\" (exit $rc); see the output above." >&2; fi' EXIT

say() { printf '\033[1m[l2b2 setup]\033[0m %s\n' "$*"; }

# A stamp holds the hash of a step's inputs; the step is skipped while its inputs are unchanged.
inputs_hash() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$STAMPS"; echo "$2" > "$STAMPS/$1"; }

# --- 1. Debian packages -------------------------------------------------------------------------
step="apt packages"
mapfile -t APT_PKGS < <(cat "$ROOT"/requirements/apt*.txt | sed -e 's/#.*//' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u)
# Python 3.11 with venv and headers (the interface build compiles C extensions against Python.h).
# A Python 3.11 that already has both (pyenv, a custom build) is used as it is; otherwise Debian's.
if [ ! -x "$PY" ]; then
  if ! command -v "$PYTHON_BIN" >/dev/null; then
    APT_PKGS+=(python3.11 python3.11-venv python3.11-dev)
  else
    "$PYTHON_BIN" -c 'import ensurepip' 2>/dev/null || APT_PKGS+=(python3.11-venv)
  fi
fi
if [ -x "$PY" ] || command -v "$PYTHON_BIN" >/dev/null; then
  py_for_headers="$PY"; [ -x "$PY" ] || py_for_headers="$PYTHON_BIN"
  "$py_for_headers" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || APT_PKGS+=(python3.11-dev)
fi
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${L2B2_SKIP_APT:-0}" = "1" ]; then
    say "L2B2_SKIP_APT=1: not installing missing Debian packages: ${missing[*]}"
  else
    say "installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- 2. the virtual environment -----------------------------------------------------------------
step="python venv"
if [ ! -x "$PY" ]; then
  command -v "$PYTHON_BIN" >/dev/null || PYTHON_BIN=python3
  "$PYTHON_BIN" -c 'import sys; assert sys.version_info[:2] == (3, 11), "ROS 2 Kilted wheels need Python 3.11, found %s" % sys.version.split()[0]'
  say "creating $VENV"
  "$PYTHON_BIN" -m venv "$VENV"
fi

step="python packages"
req_hash=$(inputs_hash "$ROOT"/requirements/*.txt)
if ! stamp_ok requirements "$req_hash"; then
  say "installing pinned Python packages (requirements/*.txt, constraints.txt)"
  req_args=()
  for f in "$ROOT"/requirements/*.txt; do
    case "$(basename "$f")" in apt*.txt|constraints.txt) continue ;; esac
    req_args+=(-r "$f")
  done
  "$VENV/bin/pip" install -q --disable-pip-version-check -c "$ROOT/requirements/constraints.txt" "${req_args[@]}"
  stamp_set requirements "$req_hash"
fi

# Point ament at the venv for every interpreter started from it: no variables to set by hand.
step="venv environment hook"
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# Prepended, not set: with a ROS 2 distribution sourced, the venv's packages must still be found.
cat > "$SITE/l2b2_ament_env.pth" <<'EOF'
import os, sys; [os.environ.__setitem__(k, os.pathsep.join([sys.prefix] + [p for p in os.environ.get(k, '').split(os.pathsep) if p and p != sys.prefix])) for k in ('AMENT_PREFIX_PATH', 'CMAKE_PREFIX_PATH')]
EOF

# --- 3. interface packages ----------------------------------------------------------------------
export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH"

# nav2_msgs and tf2_msgs stand in for Nav2's and tf2's only where the venv's Python can already import
# the real ones (a ROS 2 install for Python 3.11 on the path). Ours carry a stamp; theirs do not.
provided_elsewhere() {
  local pkg="$1"
  [ -f "$STAMPS/iface-$pkg" ] && return 1
  "$PY" -c "import $pkg.msg" 2>/dev/null
}

build_interface() {
  local pkg="$1" src="$ROOT/interfaces/$1"
  step="build interfaces: $pkg"
  local h
  h=$(inputs_hash "$ROOT/interfaces/cmake/"*.cmake "$src/CMakeLists.txt" "$src/package.xml" $(find "$src" -name '*.msg' -o -name '*.srv' -o -name '*.action' | sort); echo "$req_hash")
  if stamp_ok "iface-$pkg" "$h" && "$PY" -c "import $pkg" 2>/dev/null; then
    return 0
  fi
  say "building interface package $pkg"
  rm -rf "$BUILD/$pkg"; mkdir -p "$BUILD/$pkg"
  local log="$BUILD/$pkg/build.log"
  if ! { cmake -S "$src" -B "$BUILD/$pkg" -DCMAKE_INSTALL_PREFIX="$VENV" -DBUILD_TESTING=OFF \
          -DPython3_EXECUTABLE="$PY" -DCMAKE_BUILD_TYPE=Release \
        && cmake --build "$BUILD/$pkg" -j "$(nproc)" \
        && cmake --install "$BUILD/$pkg"; } >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "l2b2 setup: building $pkg failed; full log: $log" >&2
    return 1
  fi
  "$PY" -c "import $pkg"
  stamp_set "iface-$pkg" "$h"
}

for pkg in nav2_msgs tf2_msgs; do
  if provided_elsewhere "$pkg"; then
    say "$pkg comes from the installed ROS 2 distribution; not building ours"
  else
    build_interface "$pkg"
  fi
done
build_interface l2b2_interfaces

# --- 4. the l2b2 package itself -----------------------------------------------------------------
step="install l2b2"
pkg_hash=$(inputs_hash "$ROOT/setup.py" "$ROOT/setup.cfg" "$ROOT/package.xml")
if ! stamp_ok l2b2 "$pkg_hash" || [ ! -x "$VENV/bin/l2b2-launch" ]; then
  say "installing the l2b2 package (editable)"
  # compat mode: a plain path entry, so packages added later are importable without reinstalling
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation \
    --config-settings editable_mode=compat -e "$ROOT"
  stamp_set l2b2 "$pkg_hash"
fi

# --- 5. area-specific steps (assembling shipped models, web assets, ...): each idempotent ----------
for hook in "$ROOT"/scripts/setup.d/*.sh; do
  [ -e "$hook" ] || continue
  step="$(basename "$hook")"
  ROOT="$ROOT" VENV="$VENV" PY="$PY" bash "$hook"
done

step="check"
"$PY" -c 'import rclpy, l2b2_interfaces, nav2_msgs, tf2_msgs, l2b2_common'
step=""
say "ready: $VENV"
