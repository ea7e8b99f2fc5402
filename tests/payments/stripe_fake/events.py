"""Events API: retrieve one, list them (newest first) with Stripe's filters."""

from __future__ import annotations

import fnmatch
from typing import Any

from . import common
from .forms import Params
from .store import RequestContext, Store


def retrieve_event(store: Store, ctx: RequestContext, event_id: str, p: Params) -> dict:
    return store.get_typed(event_id, "event", owner=ctx.account)


def list_events(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    events = common.created_within(store.all_of("event", ctx.account), p)
    pattern = p.string("type")
    if pattern:
        events = [event for event in events if fnmatch.fnmatchcase(event["type"], pattern)]
    types = p.string_list("types")
    if types:
        events = [event for event in events if event["type"] in types]
    return common.page(store, events, "/v1/events", p)
