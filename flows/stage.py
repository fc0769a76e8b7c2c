"""A stage that cannot run at all fails its flow run with one line saying why.

Invalid settings, a broken catalogue or an unreachable database fail the whole stage; the
run shows as Failed with the reason as its state message and one error line in its log, not
a traceback (which a scheduled stage would otherwise repeat every minute until fixed).
Everything else (a source down, a page that will not parse) is handled inside the stage.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from prefect import get_run_logger
from prefect.exceptions import FailedRun
from prefect.states import Failed
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from config.errors import NewsdeskError

P = ParamSpec("P")
R = TypeVar("R")

# Errors that mean the stage as a whole cannot run; FailedRun is a sub-stage that said so.
STAGE_ERRORS = (NewsdeskError, SQLAlchemyError, ValidationError, FailedRun)


def reason(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        return f"invalid settings: {error}"
    if isinstance(error, SQLAlchemyError):
        return f"database error: {type(error).__name__}: {error}".split("\n", 1)[0]
    return str(error) or type(error).__name__


def stage(body: Callable[P, R]) -> Callable[P, R]:
    """Wrap a flow's body (under ``@flow``): stage-wide errors become a clear Failed state.

    Prefect makes a returned state the run's final state; a caller of the flow gets the
    error raised (FailedRun), never the state itself, so the flow's type stays ``R``.
    """

    @functools.wraps(body)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return body(*args, **kwargs)
        except STAGE_ERRORS as error:
            why = reason(error)
            get_run_logger().error("stage failed: %s", why)
            failed: Any = Failed(message=why)
            return cast(R, failed)

    return run
