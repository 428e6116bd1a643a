#!/usr/bin/env bash
# Debian packages AEH Atelier needs.
#   scripts/system-deps.sh          Pango for PDF downloads (WeasyPrint), Chromium and fonts for the browser tests
#   scripts/system-deps.sh runtime  only what the app itself needs (Pango, fonts)
set -euo pipefail
runtime_pkgs="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
pkgs="$runtime_pkgs"
[ "${1:-}" = runtime ] || pkgs="$pkgs chromium"

have() {
  ldconfig -p | grep -q 'libpangoft2-1.0.so.0' && ldconfig -p | grep -q 'libharfbuzz-subset.so.0' &&
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] &&
    { [ "${1:-}" = runtime ] || command -v chromium >/dev/null 2>&1; }
}
if have "${1:-}"; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install $pkgs yourself (PDF downloads and browser tests need them)." >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Not root and no sudo: install '$pkgs' for PDF downloads and the browser tests." >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
