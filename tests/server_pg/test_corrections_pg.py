"""取り消し on the server with its database on PostgreSQL: tests/server/test_corrections.py, run unchanged
(the ``server`` fixture of tests/server_pg/conftest.py serves a ``postgresql://`` database)."""
from __future__ import annotations

from tests.server.test_corrections import (  # noqa: F401
    test_a_correction_before_its_punch_is_refused_and_the_punch_still_counts,
    test_a_correction_cancels_its_punch_which_then_counts_as_not_made, test_corrections_are_idempotent_by_uuid,
    test_a_refused_punch_may_be_cancelled_and_keeps_its_reason, test_presence_leaves_out_a_cancelled_punch, test_refused_corrections_say_why,
    test_the_correction_in_a_later_batch_frees_the_interval_for_the_next_punch,
)
