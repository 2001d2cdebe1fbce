#!/usr/bin/env bash
# Install gtflow with every extra into ./.venv.  --dev also installs the test tools and
# Debian's Chromium (for the portal's browser tests; needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = "--dev" ] && dev=1

py=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ $dev = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
  if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
  fi
else
  .venv/bin/python -m pip install -q -e '.[all]'
fi
.venv/bin/gtflow --version
