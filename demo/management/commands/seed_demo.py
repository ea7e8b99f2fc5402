from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import ProtectedError

from catalog.models import Product
from demo.seed import (
    DEMO_LOGINS,
    ProgressBar,
    demo_seed,
    product_table_rebuild,
    products_delete_all,
    search_reindex_hook,
    seeded_tables_vacuum,
)
from inventory.demo import demo_stock_seed
from orders.demo import demo_checkout_seed
from purchasing.demo import demo_purchasing_seed
from search.popularity import product_popularity_refresh


class Command(BaseCommand):
    help = (
        "Load deterministic demo data: users, sellers, a 3-level category tree, typed attributes "
        "and N products with variants, sale prices, images and reviews. Refuses when products "
        "exist unless --append or --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=300, help="How many products (300).")
        parser.add_argument(
            "--seed", type=int, default=42, help="Random seed (same seed, same data)."
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--append", action="store_true", help="Add products to the existing catalog."
        )
        mode.add_argument(
            "--force", action="store_true", help="Delete all existing products first."
        )
        parser.add_argument(
            "--batch-size", type=int, default=5_000, help="Products per COPY batch (5000)."
        )

    def handle(self, *args, **options) -> None:
        count = options["products"]
        if count < 0 or options["batch_size"] < 1:
            raise CommandError("--products must be 0 or more and --batch-size at least 1.")
        existing = Product.objects.count()
        if existing and not (options["append"] or options["force"]):
            raise CommandError(
                f"The database already has {existing:,} products. Run with --append to add "
                "more, or --force to delete every product and seed again."
            )
        if existing and options["force"]:
            self.stdout.write(f"Deleting {existing:,} existing products...")
            bar = ProgressBar(out=self.stdout, total=existing, label="deleted")
            try:
                products_delete_all(progress=bar)
            except ProtectedError as exc:
                raise CommandError(
                    "Some products are referenced by orders or other records and cannot be "
                    "deleted. Seed into an empty database instead (or use --append)."
                ) from exc
            bar.finish()

        self.stdout.write(f"Seeding {count:,} demo products (seed {options['seed']})...")
        result = demo_seed(
            products=count, seed=options["seed"], out=self.stdout, batch_size=options["batch_size"]
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.products:,} products, {result.variants:,} variants, "
                f"{result.attribute_values:,} attribute values, {result.sale_prices:,} sale "
                f"prices, {result.images:,} images, {result.reviews:,} reviews "
                f"in {result.seconds:.1f}s."
            )
        )
        self.stdout.write("Stocking the demo warehouses...")
        bar = ProgressBar(out=self.stdout, total=1, label="variant ids")
        stock = demo_stock_seed(sellers=result.sellers, progress=bar)
        bar.finish()
        self.stdout.write(
            f"Created {stock.warehouses:,} warehouses, {stock.stocks:,} stock rows and "
            f"{stock.movements:,} opening-stock ledger rows."
        )
        self.stdout.write("Shipping methods, tax rates, vouchers and promotions...")
        checkout = demo_checkout_seed(sellers=result.sellers)
        self.stdout.write(
            f"Created {checkout.shipping_methods} shipping methods, {checkout.vouchers} "
            f"vouchers (WELCOME10, SAVE5, NORTHWIND15) and {checkout.promotions} promotions; "
            f"loaded {checkout.tax_rates} tax rates."
        )
        purchasing = demo_purchasing_seed(sellers=result.sellers)
        self.stdout.write(
            f"Created {purchasing.suppliers} supplier(s) with {purchasing.items} items and "
            f"{purchasing.rules} pricing rule(s)."
        )
        # before the index rebuild, so the vectors it writes carry their popularity tiers
        self.stdout.write("Computing product popularity...")
        bar = ProgressBar(out=self.stdout, total=1, label="product ids")
        product_popularity_refresh(progress=bar)
        bar.finish()
        if search_reindex_hook(out=self.stdout):
            self.stdout.write("Search index rebuilt.")
        self.stdout.write("Rebuilding the product table and its indexes...")
        product_table_rebuild(out=self.stdout)
        self.stdout.write("Vacuuming and analysing the seeded tables...")
        seeded_tables_vacuum(out=self.stdout)
        for who, email, password in DEMO_LOGINS:
            self.stdout.write(f"  {who}: {email} / {password}")
