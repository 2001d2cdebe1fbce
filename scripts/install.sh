#!/usr/bin/env bash
# Install gtflow with every extra into ./.venv.  --dev also installs the test tools and
# Debian's Chromium (for the portal's browser tests; needs root or sudo).
# Non-interactive throughout (CI runs it with no stdin).
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = "--dev" ] && dev=1
export DEBIAN_FRONTEND=noninteractive PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"
apt_install() {  # apt_install PKG...: Debian packages, no prompts
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

py=${PYTHON:-python3}
if ! [ -x .venv/bin/python ] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  rm -rf .venv
  if ! "$py" -m venv .venv; then
    # Debian's python3 lacks ensurepip until python3-venv is installed.
    rm -rf .venv
    apt_install python3-venv
    "$py" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ $dev = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
  # The browser tests launch /usr/bin/chromium through Playwright (no browser download).
  if ! [ -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  /usr/bin/chromium --version
else
  .venv/bin/python -m pip install -q -e '.[all]'
fi
.venv/bin/gtflow --version
