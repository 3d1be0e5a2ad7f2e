"""Seeded synthetic fingerprints after SFinGe (Cappelli, Maio, Maltoni): masters and their impressions.

Tuning, reporting and test seeds are kept apart (:mod:`dakoku_core.fingerprint.synth.dataset`).
"""
from dakoku_core.fingerprint.synth.dataset import REPORTING, TEST, TUNING, SeedRange, impressions_of, synthetic_set
from dakoku_core.fingerprint.synth.impression import SENSOR_SHAPE, ImpressionParams, make_impression
from dakoku_core.fingerprint.synth.master import Master, make_master
from dakoku_core.fingerprint.synth.minutiae import minutiae_template

__all__ = ["REPORTING", "TEST", "TUNING", "SeedRange", "impressions_of", "synthetic_set", "SENSOR_SHAPE",
           "ImpressionParams", "make_impression", "Master", "make_master", "minutiae_template"]
