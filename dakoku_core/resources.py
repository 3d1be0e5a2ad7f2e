"""Where the files that live next to the packages are: ``kv/`` and ``fonts/`` (the kiosk), ``docs/remedies`` and
``docs/api/openapi.yaml`` (what the server serves at /help/ and /openapi.yaml).

- a checkout (an editable install too): the folder that holds the packages and setup.cfg;
- a PyInstaller bundle: the folder it unpacks into, ``sys._MEIPASS`` (packaging/pyinstaller/kiosk.spec);
- a non-editable ``pip install``: ``<prefix>/share/dakoku``, where setup.cfg's data_files put them."""
from __future__ import annotations

import sys
from pathlib import Path


def resource_root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    checkout = Path(__file__).resolve().parents[1]
    installed = Path(sys.prefix) / "share" / "dakoku"
    if not (checkout / "setup.cfg").is_file() and installed.is_dir():
        return installed
    return checkout
