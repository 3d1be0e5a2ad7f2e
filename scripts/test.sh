#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite. UI tests render with real GL: on a machine without a
# display SDL uses its offscreen driver (Mesa llvmpipe).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure (e.g. a crash while creating the window)" >&2
  exit 1
fi
exit "$status"
