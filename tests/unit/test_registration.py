"""認証登録 rules without a server (a fake client records what would be sent)."""
import pytest

from dakoku_core.demo import demo_card
from dakoku_core.domain.kana import kana_row
from dakoku_core.errors import KioskError
from kiosk.services.registration import CardRegistrationService


class FakeClient:
    def __init__(self):
        self.registered, self.deleted = [], []

    def register_credential(self, employee_key, method, ref, situation=None):
        self.registered.append((employee_key, method, ref))

    def delete_credential(self, method, ref, situation=None):
        self.deleted.append((method, ref))
        return True


@pytest.fixture
def registration(demo_kiosk):
    master, _, _ = demo_kiosk
    client, refreshed = FakeClient(), []
    service = CardRegistrationService(master, lambda: client, is_online=lambda: True,
                                      refresh=lambda: refreshed.append(1))
    return service, client, refreshed, master


def key_of(fn, *args):
    with pytest.raises(KioskError) as info:
        fn(*args)
    return info.value


@pytest.mark.parametrize("reading, row", [("ヤマダ タロウ", "ヤ"), ("すずき", "サ"), ("ガッツ", "カ"), ("ヴィ", "ア"),
                                          ("ワタナベ", "ワ"), ("  パク", "ハ"), ("Smith", None), ("", None)])
def test_kana_rows(reading, row):
    assert kana_row(reading) == row


def test_employees_by_kana_row_and_code(registration):
    service, *_ = registration
    assert [e.code for e in service.employees_in_row("サ")] == ["1002", "1003"]   # サトウ, スズキ
    assert key_of(service.employee_by_code, " ").key == "employee_code_empty"
    assert key_of(service.employee_by_code, "9999").key == "employee_not_found"


def test_register_a_new_card(registration):
    service, client, refreshed, master = registration
    employee = service.employee_by_code("1003")
    service.register(employee, "01 02 03 04", "01020304")
    assert client.registered and client.registered[0][:2] == (employee.key, "card") and refreshed == [1]


def test_a_card_whose_id_changes_between_reads_is_refused(registration):
    service, client, *_ = registration
    err = key_of(service.register, service.employee_by_code("1003"), "08A1B2C3", "08F0E1D2")
    assert err.key == "card_id_unstable" and not client.registered


def test_known_cards_are_refused_with_whose_they_are(registration):
    service, client, *_ = registration
    yamada = service.employee_by_code("1001")
    own = demo_card("normal").card_id
    err = key_of(service.register, yamada, own, own)
    assert err.key == "credential_registered_to_employee" and err.message() == "検出された認証データは「山田 太郎(1001)」に登録済みです"
    err = key_of(service.register, service.employee_by_code("1003"), own, own)
    assert err.key == "credential_duplicate" and not client.registered


def test_offline_registration_is_refused(demo_kiosk):
    master, _, _ = demo_kiosk
    service = CardRegistrationService(master, lambda: FakeClient(), is_online=lambda: False, refresh=lambda: None)
    err = key_of(service.register, master.employee_by_code_or_login("1003"), "0102", "0102")
    assert err.key == "online_only" and err.message() == "この機能はオンライン時のみ利用できます"


def test_a_retried_registration_that_already_succeeded_is_success(registration):
    service, client, refreshed, master = registration
    suzuki = service.employee_by_code("1003")

    def already(employee_key, method, ref, situation=None):
        raise KioskError("credential_registered_to_employee", context={"name": suzuki.display_name, "code": "1003"})

    client.register_credential = already
    service.register(suzuki, "0A0B0C0D", "0A0B0C0D")
    assert refreshed == [1]


def test_a_key_burst_that_is_no_card_id_is_a_read_failure(registration):
    service, *_ = registration
    assert key_of(service.register, service.employee_by_code("1003"), "12345", "12345").key == "card_read_failed"
