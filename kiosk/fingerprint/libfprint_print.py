"""libfprint's serialised print (``fp_print_serialize``): read it, and write prints with minutiae of our choosing.

Used only to build large libfprint galleries for the speed benchmark (libfprint's own identify at N = 1,000)
without enrolling 1,000 fingers through a device; the kiosk never stores or sends libfprint prints.

The format is libfprint-internal and versioned (checked against libfprint 1.94.5; pinned by
``tests/fingerprint_device/test_libfprint_print_format.py``)::

    b"FP3" + GVariant "(issbymsmsia{sv}v)" in little-endian byte order (libfprint byte-swaps on big-endian hosts):
    (print type: 2 = NBIS, driver, device id, stored on the device, finger (FpFinger), username or nothing,
     description or nothing, enrolment date as a Julian day (G_MININT32 when unset), {} (unused),
     data: for NBIS prints "(a(aiaiai))" — one (x[], y[], theta[]) per enrolment sample)

x, y and theta are bozorth3's XYT: NIST coordinates (origin bottom-left, y up) and the minutia direction in whole
degrees, -180 < theta <= 180, counter-clockwise; measured against libfprint's own detection on the same image, that
is our angle + 180 degrees (our mindtct finds the same minutiae at the same places).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from dakoku_core.fingerprint.template import FingerprintTemplate

MAGIC = b"FP3"
PRINT_TYPE = "(issbymsmsia{sv}v)"
NBIS_DATA = "(a(aiaiai))"
NBIS = 2                          # FpiPrintType FPI_PRINT_NBIS
NO_DATE = -(2 ** 31)              # G_MININT32: no enrolment date
MAX_XYT = 200                     # bozorth3's MAX_FILE_MINUTIAE: libfprint refuses longer samples


class PrintFormatError(ValueError):
    """Not a print this module understands (another libfprint version, another print type)."""


@dataclass(frozen=True)
class XytSample:
    """One enrolment sample of an NBIS print: bozorth3 XYT columns."""

    x: tuple[int, ...]
    y: tuple[int, ...]
    theta: tuple[int, ...]

    def __post_init__(self) -> None:
        if not len(self.x) == len(self.y) == len(self.theta) or len(self.x) > MAX_XYT:
            raise PrintFormatError(f"XYT columns of lengths {len(self.x)}, {len(self.y)}, {len(self.theta)}")

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class LibfprintPrint:
    print_type: int
    driver: str
    device_id: str
    device_stored: bool
    finger: int
    username: str | None
    description: str | None
    enroll_date: int
    samples: tuple[XytSample, ...]

    def with_samples(self, samples) -> "LibfprintPrint":
        """The same print (driver, device, metadata) holding other minutiae."""
        return replace(self, samples=tuple(samples))


def _glib():
    from kiosk.fingerprint.libfprint_loop import load_fprint

    return load_fprint()[1]


def parse(data: bytes) -> LibfprintPrint:
    """A serialised NBIS print (``FpPrint.serialize()``)."""
    GLib = _glib()
    if not data.startswith(MAGIC):
        raise PrintFormatError(f"not an FP3 print (starts with {data[:3]!r})")
    variant = GLib.Variant.new_from_bytes(GLib.VariantType.new(PRINT_TYPE), GLib.Bytes.new(data[len(MAGIC):]), False)
    if not variant.is_normal_form():
        raise PrintFormatError("the GVariant is not in normal form (truncated or another layout)")
    kind, driver, device_id, stored, finger, username, description, date, _unused, payload = variant.unpack()
    if kind != NBIS:
        raise PrintFormatError(f"print type {kind} is not NBIS ({NBIS})")
    inner = variant.get_child_value(9).get_variant()
    if inner.get_type_string() != NBIS_DATA:
        raise PrintFormatError(f"NBIS data of type {inner.get_type_string()!r}, expected {NBIS_DATA!r}")
    samples = tuple(XytSample(tuple(x), tuple(y), tuple(t)) for x, y, t in payload[0])
    return LibfprintPrint(kind, driver, device_id, stored, finger, username, description, date, samples)


def build(print_: LibfprintPrint) -> bytes:
    """The serialised form libfprint's ``FpPrint.deserialize`` reads."""
    GLib = _glib()
    data = GLib.Variant(NBIS_DATA, ([(list(s.x), list(s.y), list(s.theta)) for s in print_.samples],))
    variant = GLib.Variant(PRINT_TYPE, (
        print_.print_type, print_.driver, print_.device_id, print_.device_stored, print_.finger,
        print_.username, print_.description, print_.enroll_date, {}, data))
    return MAGIC + variant.get_data_as_bytes().get_data()


def xyt_from_template(template: FingerprintTemplate) -> XytSample:
    """Our minutiae (x right, y down, radians counter-clockwise as seen) as bozorth3 XYT the way libfprint stores
    them: at most ``MAX_XYT`` (the best quality ones), sorted by x then y — bozorth3's pairing stops scanning on
    the x distance, so an unsorted sample silently never matches."""
    best = template.best(MAX_XYT)
    x = np.rint(best.xy[:, 0]).astype(int)
    y = np.rint(template.height - best.xy[:, 1]).astype(int)
    theta = (np.rint(np.degrees(best.angles)).astype(int) + 180) % 360     # NBIS points the other way
    theta = np.where(theta > 180, theta - 360, theta)
    order = np.lexsort((y, x))
    return XytSample(tuple(x[order].tolist()), tuple(y[order].tolist()), tuple(theta[order].tolist()))
