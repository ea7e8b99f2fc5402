"""Write spec_extract.json: what the contract test needs from Stripe's OpenAPI description
(github.com/stripe/openapi), which CI cannot fetch. Run by hand when the extract should move
to a newer spec:

    python -m tests.payments.stripe_fake.extract_spec \\
        --spec openapi/spec3.yaml --spec-commit <sha> \\
        --fixtures openapi/fixtures3.json --fixtures-commit <sha> \\
        > tests/payments/stripe_fake/spec_extract.json

For each schema the fake emits: its required properties, all its properties, which properties
hold another extracted schema, and (for API resources) the top-level fields of Stripe's example
object in fixtures3.json. For each route of routes.py: the operation's parameter names."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .routes import ROUTES

RESOURCES = (
    "account",
    "account_link",
    "balance",
    "balance_transaction",
    "charge",
    "customer",
    "dispute",
    "ephemeral_key",
    "event",
    "payment_intent",
    "payment_method",
    "radar.early_fraud_warning",
    "refund",
    "transfer",
    "transfer_reversal",
)
NESTED = (
    "error",
    "api_errors",
    "account_capabilities",
    "account_requirements",
    "address",
    "balance_amount",
    "billing_details",
    "charge_outcome",
    "dispute_evidence",
    "dispute_evidence_details",
    "fee",
    "notification_event_data",
    "notification_event_request",
    "payment_flows_automatic_payment_methods_payment_intent",
    "payment_intent_next_action",
    "payment_intent_next_action_redirect_to_url",
    "payment_method_card",
    "payment_method_details",
    "payment_method_details_card",
    "payment_method_details_card_checks",
    "payment_method_details_us_bank_account",
    "payment_method_us_bank_account",
    "three_d_secure_details_charge",
)


def _load(path: Path) -> Any:
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    return json.loads(text)


def _referenced(node: dict[str, Any], wanted: set[str]) -> str | None:
    """The extracted schema a property holds: `$ref`, or one branch of `anyOf` (nullable or
    expandable fields); arrays answer `name[]`."""
    if node.get("type") == "array" and "items" in node:
        inner = _referenced(node["items"], wanted)
        return f"{inner}[]" if inner else None
    ref = node.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return name if name in wanted else None
    for branch in node.get("anyOf", ()):
        found = _referenced(branch, wanted)
        if found:
            return found
    return None


def _parameters(operation: dict[str, Any]) -> list[str]:
    names = {
        parameter["name"]
        for parameter in operation.get("parameters", ())
        if parameter.get("in") == "query"
    }
    content = operation.get("requestBody", {}).get("content", {})
    form = content.get("application/x-www-form-urlencoded", {}).get("schema", {})
    names.update(form.get("properties", {}))
    return sorted(names)


def extract(spec: dict[str, Any], fixtures: dict[str, Any]) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    wanted = set(RESOURCES) | set(NESTED)
    missing = sorted(name for name in wanted if name not in schemas)
    if missing:
        raise SystemExit(f"not in the spec: {', '.join(missing)}")
    examples = fixtures["resources"]
    out: dict[str, Any] = {}
    for name in sorted(wanted):
        schema = schemas[name]
        properties = schema.get("properties", {})
        entry: dict[str, Any] = {
            "required": sorted(schema.get("required", ())),
            "properties": sorted(properties),
            "refs": {
                prop: ref
                for prop, node in sorted(properties.items())
                if (ref := _referenced(node, wanted))
            },
        }
        if name in RESOURCES and name in examples:
            entry["example_properties"] = sorted(examples[name])
        out[name] = entry
    operations = {}
    for route in ROUTES:
        operation = spec["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            raise SystemExit(f"not in the spec: {route.method} {route.path}")
        operations[f"{route.method} {route.path}"] = _parameters(operation)
    return {"schemas": out, "operations": operations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--spec-commit", required=True)
    parser.add_argument("--fixtures", type=Path, required=True)
    parser.add_argument("--fixtures-commit", required=True)
    args = parser.parse_args()
    spec = _load(args.spec)
    fixtures = _load(args.fixtures)
    source = {
        "repository": "https://github.com/stripe/openapi",
        "spec": {
            "path": f"openapi/{args.spec.name}",
            "commit": args.spec_commit,
            "api_version": spec["info"]["version"],
        },
        "fixtures": {"path": f"openapi/{args.fixtures.name}", "commit": args.fixtures_commit},
    }
    json.dump({"_source": source, **extract(spec, fixtures)}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
