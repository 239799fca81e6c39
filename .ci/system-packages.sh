#!/usr/bin/env bash
# Installs the Debian packages the tests need, when they are missing: chromium for the
# real-browser tests (Playwright drives it; Playwright's own browser download cannot work here),
# postgresql and redis-server for the second pass (.ci/services.sh runs throwaway instances).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
dpkg-query -W chromium
