"""Which apps' code imports which: read from the source (every `import` and `from ... import`,
at module level or inside a function), so a cycle cannot hide in a lazy import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str, *, root: Path = ROOT) -> dict[str, set[str]]:
    """Module named by an import -> the files of `package` importing it (migrations left out:
    they name other apps only as strings)."""
    found: dict[str, set[str]] = {}
    for path in sorted((root / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name, set()).add(str(path.relative_to(root)))
    return found


def imported_packages(package: str, *, root: Path = ROOT) -> dict[str, set[str]]:
    """Top-level package -> the files of `package` importing it or a module of it."""
    found: dict[str, set[str]] = {}
    for module, files in imported_modules(package, root=root).items():
        found.setdefault(module.split(".")[0], set()).update(files)
    return found


def test_the_reader_sees_imports_inside_functions(tmp_path):
    package = tmp_path / "shopfront"
    package.mkdir()
    (package / "views.py").write_text(
        "import json\n\ndef page():\n    from orders.pricing import total\n    return total\n"
    )
    assert imported_packages("shopfront", root=tmp_path) == {
        "json": {"shopfront/views.py"},
        "orders": {"shopfront/views.py"},
    }


def test_orders_builds_on_the_cart_and_the_cart_never_imports_orders():
    assert "cart" in imported_packages("orders")  # checkout reads the cart it buys
    assert imported_packages("cart").get("orders", set()) == set()


def test_orders_uses_the_cart_below_its_faces():
    """Checkout's views resolve the shopper's cart with `cart.owner`, never a cart view."""
    faces = {"cart.api", "cart.views", "cart.urls", "cart.api_urls", "cart.serializers"}
    assert {m: f for m, f in imported_modules("orders").items() if m in faces} == {}


@pytest.mark.parametrize("app", ["cart", "orders"])
def test_pricing_sits_below_the_cart_and_orders(app):
    """The totals, the pricing rules and the breakdown's API shape are shared by the cart page
    and checkout: `pricing` imports neither of them."""
    assert imported_packages("pricing").get(app, set()) == set()
    assert "pricing" in imported_packages(app)
