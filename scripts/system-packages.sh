#!/usr/bin/env bash
# Installs the Debian packages a command needs when they are missing: `system-packages.sh test` for the
# test suite (Chromium, Redis, PostgreSQL), `system-packages.sh bench` for the benchmarks (adds Postfix's smtp-sink
# and the wrk HTTP load generator).
set -euo pipefail

want=()
need() { # need PACKAGE PATH-THAT-PROVES-IT-IS-THERE
  if [ ! -e "$2" ] && ! command -v "$2" >/dev/null 2>&1; then want+=("$1"); fi
}

case "${1:-test}" in
  test)
    need chromium /usr/bin/chromium
    need redis-server redis-server
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || want+=(postgresql)
    ;;
  bench)
    need redis-server redis-server
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || want+=(postgresql)
    need postfix /usr/sbin/smtp-sink
    need wrk wrk
    ;;
esac

[ ${#want[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${want[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Postfix must not start a daemon on port 25: install it without running its service scripts.
$sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
