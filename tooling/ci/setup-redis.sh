#!/usr/bin/env bash
# Installs redis-server from Debian when it is missing. Used by @azcred/token-cache-redis's tests, which
# start a real redis-server on a free loopback port and end it by its PID (they fail without one).
# Usage: bash tooling/ci/setup-redis.sh
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup-redis: redis-server is missing; installing the Debian package 'redis-server'"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends redis-server
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "setup-redis: redis-server is still missing after apt-get install redis-server" >&2
  exit 1
fi
redis-server --version
