"""Writes mcc_golden.npz: inputs and cylinder codes of ~60 templates, frozen from the MCC encoder as it was
before its speed-up (commit 1033a85), so that tests/fingerprint/test_mcc_encode_identity.py can check that
every later encoder gives the same bits.

Do not re-run this to make a failing identity test pass: the file is the reference. Re-run it only when the
cylinder code is changed on purpose (and say so in the commit):
``python tests/fingerprint/data/make_mcc_golden.py``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from dakoku_core.fingerprint import mcc  # noqa: E402
from dakoku_core.fingerprint.template import FingerprintTemplate  # noqa: E402
from dakoku_core.fingerprint.synth.minutiae import minutiae_template  # noqa: E402

OUT = Path(__file__).with_name("mcc_golden.npz")
W, H = 320, 384


def _t(rows, width=W, height=H) -> FingerprintTemplate:
    arr = np.asarray(rows, dtype=np.float32).reshape(-1, 5)
    return FingerprintTemplate(arr, width, height)


def _edge_cases() -> dict[str, FingerprintTemplate]:
    rng = np.random.default_rng(20261126)
    cases = {f"count_{k}": _t([[100 + 20 * i, 150 + 9 * i, 0.7 * i, 50, 1] for i in range(k)]) for k in range(4)}
    cases["collinear_horizontal"] = _t([[40 + 25 * i, 200, 0.3 * i, 60, 1] for i in range(8)])
    cases["collinear_diagonal"] = _t([[50 + 18 * i, 60 + 18 * i, 1.1 * i, 60, 2] for i in range(10)])
    cases["duplicate_points"] = _t([[120, 120, 0.5, 60, 1], [120, 120, 2.0, 50, 1], [150, 130, 1.0, 40, 2],
                                    [130, 170, 4.0, 70, 1], [160, 160, 3.0, 30, 2]])
    border = [[0, 0, 0.0, 60, 1], [W - 1, 0, np.pi / 2, 60, 1], [0, H - 1, np.pi, 60, 2],
              [W - 1, H - 1, 3 * np.pi / 2, 60, 2], [W / 2, 0, 1.0, 60, 1], [0, H / 2, 2.0, 60, 1]]
    inner = [[x, y, a, 50, 1] for x, y, a in zip(rng.uniform(0, W, 40), rng.uniform(0, H, 40), rng.uniform(0, 7, 40))]
    cases["image_borders"] = _t(border + inner)
    lattice = [[40 + 20 * i, 40 + 20 * j, (np.pi / 2) * ((i + j) % 4), 50, 1] for i in range(8) for j in range(8)]
    cases["integer_lattice_right_angles"] = _t(lattice)
    ties = minutiae_template(9001, count=120).minutiae.copy()
    ties[:, 3] = 50                                         # equal qualities: best() must break ties the same way
    cases["ties_120"] = FingerprintTemplate(ties, W, H)
    far = [[20 + rng.uniform(0, 30), 20 + rng.uniform(0, 30), rng.uniform(0, 7), 50, 1] for _ in range(6)]
    far += [[700 + rng.uniform(0, 30), 600 + rng.uniform(0, 30), rng.uniform(0, 7), 50, 1] for _ in range(6)]
    cases["two_far_clusters"] = _t(far, 800, 750)
    return cases


def _image_level() -> dict[str, FingerprintTemplate]:
    from dakoku_core.fingerprint.extractors import MindtctExtractor
    from dakoku_core.fingerprint.synth.dataset import TEST, impressions_of
    extractor = MindtctExtractor()
    return {f"image_seed{seed}_imp{k}": extractor.extract(image)
            for seed in TEST.seeds(2) for k, image in enumerate(impressions_of(seed, 3))}


def cases() -> dict[str, FingerprintTemplate]:
    out = {f"seed_{s}": minutiae_template(s) for s in range(30)}
    out.update({f"roundtrip_seed_{s}": FingerprintTemplate.from_bytes(minutiae_template(s).to_bytes())
                for s in range(30, 38)})
    out.update({f"seed_{s}_count_{c}": minutiae_template(s, count=c) for s, c in
                [(40, 10), (41, 25), (42, 40), (43, 85), (44, 100), (45, 150)]})
    out.update(_edge_cases())
    out.update(_image_level())
    return out


def main() -> None:
    names, arrays = [], {}
    for i, (name, template) in enumerate(cases().items()):
        code = mcc.encode(template)
        names.append(name)
        arrays[f"in_{i}"] = template.minutiae
        arrays[f"size_{i}"] = np.array([template.width, template.height, template.dpi])
        for field in ("xy", "angles", "packed_bits", "packed_valid"):
            arrays[f"{field}_{i}"] = getattr(code, field)
    np.savez_compressed(OUT, names=np.array(names), **arrays)
    print(f"{len(names)} templates -> {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
