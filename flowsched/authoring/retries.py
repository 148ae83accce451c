"""When the next try of a failed task may start; shared by the runner and the scheduler."""

from __future__ import annotations

from datetime import timedelta

MAX_BACKOFF = timedelta(hours=24)


def retry_delay_for(
    retry_delay: timedelta,
    exponential_backoff: bool,
    max_retry_delay: timedelta | None,
    try_number: int,
) -> timedelta:
    """Delay after try ``try_number`` failed: fixed, or doubling per try with backoff.

    As in Airflow, ``max_retry_delay`` caps only the exponential backoff, which is also
    capped at 24 hours so a high try number cannot overflow.
    """
    if not exponential_backoff:
        return retry_delay
    cap = min(max_retry_delay or MAX_BACKOFF, MAX_BACKOFF)
    seconds = retry_delay.total_seconds() * 2 ** min(max(try_number - 1, 0), 40)
    return min(timedelta(seconds=seconds), cap)
