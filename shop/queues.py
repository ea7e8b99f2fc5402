"""Per-queue time limits for Celery tasks, read by Celery as a task annotation
(`CELERY_TASK_ANNOTATIONS` in settings; imported there, so nothing here imports Django).

Each task gets the soft and hard limits of the queue its route sends it to: one table of limits
per kind of work instead of a number on every task. The soft limit raises
`SoftTimeLimitExceeded` inside the task, which `shop.celery.Task` retries like any transient
failure; the hard limit kills the pool process. Either way the outbox row is left not run
(`shop.core.outbox`), so a refund or a webhook stopped by a limit is published again, never
dropped."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# seconds between the soft limit (the task may clean up) and the hard one (the process dies)
HARD_LIMIT_GRACE_SECONDS = 30


def route_queue(name: str, routes: Mapping[str, Mapping[str, Any]], default: str) -> str:
    """The queue `routes` (CELERY_TASK_ROUTES) send task `name` to: an exact name first, then
    the first glob pattern that matches, as Celery's own router reads the same mapping."""
    route = routes.get(name)
    if route is None:
        route = next(
            (r for pattern, r in routes.items() if fnmatch.fnmatchcase(name, pattern)), None
        )
    return str(route["queue"]) if route and route.get("queue") else default


@dataclass(frozen=True)
class QueueTimeLimits:
    """A Celery task annotation: `soft_time_limit` / `time_limit` from the task's queue, plus
    `per_task` options by task name (a mail task's rate limit). One object, because Celery
    applies only the first annotation that answers for a task."""

    routes: Mapping[str, Mapping[str, Any]]
    soft_limits: Mapping[str, int]
    default_queue: str
    per_task: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def limits_for(self, name: str) -> dict[str, int] | None:
        soft = self.soft_limits.get(route_queue(name, self.routes, self.default_queue))
        if soft is None:
            return None
        return {"soft_time_limit": soft, "time_limit": soft + HARD_LIMIT_GRACE_SECONDS}

    def annotate(self, task: Any) -> dict[str, Any] | None:
        if task.name.startswith("celery."):
            return None  # Celery's own (chord unlock, backend cleanup)
        return {**(self.limits_for(task.name) or {}), **self.per_task.get(task.name, {})}
