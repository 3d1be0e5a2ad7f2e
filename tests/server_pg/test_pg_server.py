"""tests/server's behaviour tests, run unchanged against the server on PostgreSQL.

The test functions are imported from the tests/server modules, so pytest collects them here too, where the
``server`` fixture (tests/server_pg/conftest.py) serves a ``postgresql://`` database. The one SQLite-specific
test (it breaks the database with sqlite3) has a PostgreSQL version in test_pg_specific.py; the search of the
SQLite file for plaintext templates has none (the sealed-binding test runs here on the PostgreSQL rows).
"""
from __future__ import annotations

import pytest

from tests.server.test_abuse import (  # noqa: F401  (bad input, scope, UUIDs, timecard links on PostgreSQL)
    prints_free_ref, second_company, test_a_paired_surrogate_is_fine_and_a_newline_is_just_an_unknown_key,
    test_a_stamp_inside_the_window_is_accepted, test_a_surrogate_inside_one_punch_fails_the_request_not_the_server,
    test_a_uuid_is_unique_per_company_not_across_companies, test_another_departments_card_cannot_be_deleted,
    test_help_registration_into_own_department_still_works_and_removal_is_own_only,
    test_invalid_utf8_and_non_json_constants_are_a_400, test_json_nested_1000_deep_is_a_400,
    test_lone_surrogates_and_nul_are_a_400, test_master_data_sends_password_hashes_only_where_password_punching_is_allowed,
    test_only_canonical_uuids_are_taken, test_out_of_scope_employees_are_refused_with_cause_c,
    test_oversized_fields_and_bodies_are_4xx, test_random_garbage_never_gets_a_5xx,
    test_refused_punches_appear_on_the_timecard_as_to_be_checked, test_stamps_out_of_range_fail_only_their_own_punch,
    test_timecard_link_dies_with_its_recorder_key, test_timecard_link_obeys_the_ip_allow_list,
    test_timecard_month_out_of_range_is_a_400, test_timecard_page_headers_and_host_from_configuration,
    test_refusals_are_counted_and_none_was_a_5xx,
)
from tests.server.test_fingerprints import (  # noqa: F401
    prints, test_a_new_finger_is_numbered_by_the_server_lowest_free_first,
    test_an_employee_who_moves_in_after_n_is_sent_since_n,
    test_two_kiosks_enrolling_one_employee_at_once_get_different_numbers,
    test_another_employees_finger_is_a_duplicate_without_saying_whose,
    test_delete_leaves_a_tombstone_and_is_idempotent, test_full_and_incremental_pulls_with_etag,
    test_a_finger_changed_while_the_gallery_loads_is_loaded_next_time,
    test_gallery_cache_decrypts_stored_codes_and_only_what_changed, test_invalid_template_is_400,
    test_malformed_bodies_and_unknown_employee, test_own_other_finger_names_the_employee,
    test_pull_sends_only_what_a_kiosk_needs, test_register_and_replace_one_finger,
    test_scope_is_the_department_and_its_help_registrations, test_sealed_blobs_open_only_with_their_binding,
    test_template_keys_directory,
)
from tests.server.test_master_and_registration import (  # noqa: F401
    test_credential_deletion_is_idempotent_and_unknown_employee_is_404,
    test_credential_duplicates_are_checked_company_wide, test_demo_card_cannot_be_registered_to_someone_else,
    test_etag_304_and_incremental_pull, test_full_pull_has_everything_the_kiosk_needs,
    test_help_registration_lets_the_employee_punch_here,
)
from tests.server.test_punches import (  # noqa: F401
    test_allowed_variants_are_accepted, test_concurrent_uploads_of_one_batch_store_each_punch_once,
    test_malformed_batch_is_a_json_400, test_reauthentication_interval, test_rejected_punch_is_kept_and_answers_the_same,
    test_rules_reject, test_same_uuid_twice_in_one_batch, test_same_uuid_twice_is_stored_once,
    test_stamped_time_not_server_time_decides, test_unknown_employee_and_malformed_items,
)
from tests.server.test_error_reasons import (  # noqa: F401  (refusals never echo the value)
    test_a_malformed_body_is_refused_without_its_value, test_a_malformed_correction_is_refused_without_its_value,
    test_a_malformed_punch_is_refused_without_its_value,
)
from tests.server.test_shared_rules import (  # noqa: F401  (both punch paths judge as dakoku_core.domain.rules)
    test_the_batch_path_judges_as_the_kiosks_rules, test_the_punch_by_punch_path_judges_as_the_kiosks_rules,
)
from tests.server.test_settings_history import (  # noqa: F401  (issue 9: settings by master version)
    test_each_punch_is_judged_with_the_settings_of_its_master_version, test_the_history_lookup,
)
from tests.server.test_security import (  # noqa: F401
    test_address_not_in_allow_list_is_refused, test_clock_skew_is_refused_but_time_is_readable,
    test_renewed_certificate_refuses_the_old_one, test_replayed_request_is_refused, test_tampered_body_is_refused,
    test_tls_is_verified_against_the_local_ca, test_unknown_key_id_is_refused, test_unsigned_request_is_refused,
    test_wrong_key_is_refused,
)
from tests.server.test_timecard_and_errors import (  # noqa: F401
    test_forged_timecard_link_is_refused, test_openapi_is_served_and_lists_every_route,
    test_timecard_link_expires, test_timecard_link_renders_the_employee_page, test_unknown_route_and_method_are_json,
)
from tests.server.test_fingerprint_self_check_shared import (  # noqa: F401  (the kept self-check: claims, upserts)
    app, rows, runs, test_a_claim_no_longer_renewed_is_taken_over_and_the_first_kept_check_stands,
    test_a_claim_past_its_lease_is_taken_over_and_the_late_release_does_not_end_the_new_one,
    test_a_restarted_server_decides_with_the_kept_check_from_its_first_request,
    test_the_store_keeps_the_newest_gallerys_check_and_its_claims,
    test_two_workers_run_one_check_of_a_gallery_and_both_decide_with_it, vault,
)

pytestmark = pytest.mark.timeout(120)
