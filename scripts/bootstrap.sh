#!/usr/bin/env bash
# Create .venv and install the Python packages a target needs (idempotent).
# Usage: scripts/bootstrap.sh requirements.txt|requirements-dev.txt
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"

python_bin=""
for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    python_bin="$candidate"; break
  fi
done
[ -n "$python_bin" ] || { echo "Python 3.10 or newer is needed / Python 3.10+ requis" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  if ! "$python_bin" -m venv .venv 2>/dev/null; then
    # Debian and Ubuntu ship venv separately (python3-venv).
    rm -rf .venv
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing python3-venv (apt)..." >&2
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    "$python_bin" -m venv .venv
  fi
fi
stamp=".venv/.installed-$(basename "$req")"
if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
