"""Writes of the verification app: runs, staff decisions and monitoring alerts.

`runs` reads the registers and records verdicts; `review` records staff decisions;
`monitoring` schedules re-checks and sends alerts; `reading` picks the register for a right.
"""

from verification.services.review import ReviewError, run_decide
from verification.services.runs import (
    RegistryRetry,
    listing_runs_execute,
    listing_verification_queue,
    listing_verify_now,
    right_verify_now,
    rights_reverify_for_release,
    run_execute,
    run_queue,
)

__all__ = [
    "RegistryRetry",
    "ReviewError",
    "listing_runs_execute",
    "listing_verification_queue",
    "listing_verify_now",
    "right_verify_now",
    "rights_reverify_for_release",
    "run_decide",
    "run_execute",
    "run_queue",
]
