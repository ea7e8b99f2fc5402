from __future__ import annotations

from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS


def test_openapi_schema_validates_without_a_single_warning(tmp_path):
    """Every API view documents itself: drf-spectacular refuses (CommandError) on any warning, so
    a new endpoint without schema information fails here, not in a mobile developer's client."""
    GENERATOR_STATS.reset()  # warnings are reported once per process; count them afresh
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    assert "    Error:" in schema  # the one error shape is a shared component
