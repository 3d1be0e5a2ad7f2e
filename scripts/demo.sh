#!/usr/bin/env bash
# Set up (if needed) and start the kiosk demo: local ledger, demo employees, simulated card reader.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/kiosk demo "$@"
