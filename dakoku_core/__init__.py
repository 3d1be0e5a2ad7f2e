"""What the Dakoku kiosk and its reference server share, with no Kivy and no web framework: the domain rules
(:mod:`dakoku_core.domain`), the Recorder API protocol (:mod:`dakoku_core.protocol`), the error catalogue
(:mod:`dakoku_core.errors`, its texts through :mod:`dakoku_core.i18n`), the fingerprint matcher
(:mod:`dakoku_core.fingerprint`), the log redaction rules and the demo company.

It imports nothing from ``kiosk`` or ``dakoku_server`` (tests/unit/test_package_boundaries.py)."""
