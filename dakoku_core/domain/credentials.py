"""Card IDs as keyed hashes: the raw ID is personal data and is kept only where it is needed."""
from __future__ import annotations

import hashlib
import hmac


def normalise_card_id(card_id: str) -> str:
    """Upper-case hex without separators; raises ValueError for anything that is not hex."""
    cleaned = "".join(card_id.split()).replace(":", "").replace("-", "").upper()
    if not cleaned or len(cleaned) % 2 or any(c not in "0123456789ABCDEF" for c in cleaned):
        raise ValueError("card ID must be hex bytes")
    return cleaned


def card_ref(company_key: bytes, card_id: str) -> str:
    """HMAC-SHA256 of the normalised card ID under the company's key (hex)."""
    if len(company_key) < 16:
        raise ValueError("company key too short")
    digest = hmac.new(company_key, normalise_card_id(card_id).encode("ascii"), hashlib.sha256)
    return digest.hexdigest()


def masked_card_id(card_id: str) -> str:
    """What a screen may show: at most the last four hex digits."""
    return "…" + normalise_card_id(card_id)[-4:]
