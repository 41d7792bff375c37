#!/usr/bin/env bash
# Installs Chromium from Debian (package `chromium`, binary /usr/bin/chromium) when it is missing.
# Used by the real-browser tests of @azcred/interactive-browser (through @azcred/tooling-chromium).
# Usage: bash tooling/ci/setup-chromium.sh
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup-chromium: /usr/bin/chromium is missing; installing the Debian package 'chromium'"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends chromium fonts-liberation
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "setup-chromium: /usr/bin/chromium is still missing after apt-get install chromium" >&2
  exit 1
fi
/usr/bin/chromium --version
