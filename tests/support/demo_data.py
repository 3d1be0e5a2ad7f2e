"""What the server tiers add to the demo company (in the database the server models are bound to): a second
company whose IP allow-list does not hold 127.0.0.1 (→ 009), and a second demo recorder whose certificate a
test renews (→ 012)."""
from __future__ import annotations

from dakoku_server import admin, recorders


def security_recorders(port: int) -> dict[str, str]:
    """Provisioning texts: ``ipco`` (IPCO / R9, allow-list 127.0.0.2 only) and ``renewable`` (DEMO / R002 at HQ),
    both pointing at https://127.0.0.1:``port``/."""
    url = f"https://127.0.0.1:{port}/"
    ipco = admin.add_company("IPCO", "IP制限株式会社")
    admin.add_department(ipco, "MAIN", "本店")
    admin.allow_ip(ipco, "127.0.0.2")
    demo = admin.company("DEMO")
    return {"ipco": recorders.add_recorder(ipco, "R9", "MAIN", server_url=url).text(),
            "renewable": recorders.add_recorder(demo, "R002", "HQ", server_url=url).text()}
