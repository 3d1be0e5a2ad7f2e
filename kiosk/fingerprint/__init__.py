"""The kiosk's fingerprint sensors: the sensor port (:mod:`kiosk.fingerprint.sensor`), libfprint devices and the
simulated sensor. Matching, templates and enrolment are shared with the server: :mod:`dakoku_core.fingerprint`."""
