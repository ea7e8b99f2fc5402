"""Events API: retrieve one, list them (newest first) with Stripe's filters."""

from __future__ import annotations

import fnmatch
from typing import Any

from . import common
from .forms import Params
from .store import RequestContext, Store

_RANGE = ("gt", "gte", "lt", "lte")


def retrieve_event(store: Store, ctx: RequestContext, event_id: str, p: Params) -> dict:
    return store.get_typed(event_id, "event", owner=ctx.account)


def list_events(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    events = store.all_of("event", ctx.account)
    pattern = p.string("type")
    if pattern:
        events = [event for event in events if fnmatch.fnmatchcase(event["type"], pattern)]
    types = p.string_list("types")
    if types:
        events = [event for event in events if event["type"] in types]
    created = p.raw("created")
    if isinstance(created, str):
        exact = p.integer("created")
        events = [event for event in events if event["created"] == exact]
    elif isinstance(created, dict):
        p.mapping("created", allowed=_RANGE)
        bounds = {name: p.integer("created", name) for name in _RANGE}
        events = [
            event
            for event in events
            if (bounds["gt"] is None or event["created"] > bounds["gt"])
            and (bounds["gte"] is None or event["created"] >= bounds["gte"])
            and (bounds["lt"] is None or event["created"] < bounds["lt"])
            and (bounds["lte"] is None or event["created"] <= bounds["lte"])
        ]
    return common.page(store, events, "/v1/events", p)
