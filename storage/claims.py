"""Claiming rows for one worker: the locking step shared by items and deliveries."""

from __future__ import annotations

from sqlalchemy import ScalarSelect, Select
from sqlalchemy.orm import Session


def claimable_ids(session: Session, candidates: Select[int]) -> list[int] | ScalarSelect[int]:
    """What the claiming UPDATE's ``id IN (...)`` takes, so that ``LIMIT n`` claims n.

    PostgreSQL: the ids, selected and locked (skipping rows other workers hold) in a
    statement of their own. As a sub-select of the UPDATE, PostgreSQL may run it more than
    once while updating, and with SKIP LOCKED each run can return new rows: a claim of 2
    took 4. SQLite: the sub-select itself, so the UPDATE stays one statement, atomic since
    SQLite has one writer at a time (two statements would let two workers pick the same
    ids, and the later one would get nothing while work remained).
    """
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(candidates.with_for_update(skip_locked=True)))
    return candidates.scalar_subquery()
