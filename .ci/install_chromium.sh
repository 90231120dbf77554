#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the Airflow UI browser test
# (tests/airflow/test_ui.py, marked `browser`); `make test` runs it first. Idempotent: does
# nothing when chromium is already there. Where it cannot install (not root), the browser test
# skips with a message on a laptop and fails under CI=true.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_chromium.sh: chromium is missing and this is not root; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y chromium chromium-driver" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
