"""Seeded synthetic fingerprints after SFinGe (Cappelli, Maio, Maltoni): masters and their impressions.

Tuning, reporting and test seeds are kept apart (:mod:`kiosk.fingerprint.synth.dataset`).
"""
from kiosk.fingerprint.synth.dataset import REPORTING, TEST, TUNING, SeedRange, impressions_of, synthetic_set
from kiosk.fingerprint.synth.impression import SENSOR_SHAPE, ImpressionParams, make_impression
from kiosk.fingerprint.synth.master import Master, make_master
from kiosk.fingerprint.synth.minutiae import minutiae_template

__all__ = ["REPORTING", "TEST", "TUNING", "SeedRange", "impressions_of", "synthetic_set", "SENSOR_SHAPE",
           "ImpressionParams", "make_impression", "Master", "make_master", "minutiae_template"]
