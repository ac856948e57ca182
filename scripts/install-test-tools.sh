#!/usr/bin/env bash
# System tools the end-to-end tests need beyond Node, Java and Python: openssl (test/e2e/security.test.ts
# makes a CA and certificates with it). Idempotent: installs only what is missing (Debian/Ubuntu apt).
#   bash scripts/install-test-tools.sh
set -euo pipefail

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ ${#missing[@]} -eq 0 ]; then
  echo "[test-tools] present: openssl"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[test-tools] missing ${missing[*]} and no apt-get here: install them with the system's package manager" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "[test-tools] installing ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
