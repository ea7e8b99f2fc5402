"""Rebuild search: every product's vector and shopper price in PostgreSQL, then (when
OPENSEARCH_URL is set) a fresh OpenSearch index swapped in behind the alias. Shows progress."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from search.base import SearchUnavailable
from search.services import (
    search_denormalised_rebuild,
    search_index_rebuild,
    search_index_refresh_dirty,
    search_key_lexemes_backfill,
    search_lexemes_rebuild,
)


class Command(BaseCommand):
    help = "Rebuild the search index (PostgreSQL, and OpenSearch with an alias swap if set)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dirty-only",
            action="store_true",
            help="Only refresh products flagged stale (what the beat sweep does).",
        )
        parser.add_argument(
            "--denormalised-only",
            action="store_true",
            help="Only recompute visibility, facet values and the autocomplete table (the "
            "backfill migration 0004 runs); minutes instead of a full rebuild.",
        )
        parser.add_argument(
            "--lexemes",
            action="store_true",
            help="Only add the stored vectors' missing lexemes to the prefix expansion table "
            "(after vectors were written by code that did not record them; seconds).",
        )
        parser.add_argument(
            "--keys",
            action="store_true",
            help="Only rewrite every vector's key lexemes (popularity levels, price band) from "
            "the stored price and popularity tier (after a deploy during which the previous "
            "release wrote vectors; about 3 minutes per 1M products). Safe to repeat.",
        )
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(
        self,
        *args,
        dirty_only: bool,
        denormalised_only: bool,
        lexemes: bool,
        keys: bool,
        batch_size: int,
        **options,
    ) -> None:
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            share = done / total if total else 1
            self.stdout.write(
                f"\r  {share:6.1%}  {done:,}/{total:,} products  {done / elapsed:,.0f}/s",
                ending="",
            )
            self.stdout.flush()

        if keys:
            done = search_key_lexemes_backfill(progress=progress)
            self.stdout.write("")
            self.stdout.write(self.style.SUCCESS(f"Checked the key lexemes of {done:,} products."))
        if lexemes or keys:
            self.stdout.write("Reading the stored vectors' lexemes (about 5 s per 1M products)...")
            added = search_lexemes_rebuild()
            self.stdout.write(self.style.SUCCESS(f"Added {added:,} missing lexemes."))
            return
        if dirty_only:
            done = search_index_refresh_dirty()
            self.stdout.write(self.style.SUCCESS(f"Refreshed {done:,} stale products."))
            return
        if denormalised_only:
            done = search_denormalised_rebuild(progress=progress, batch_size=batch_size)
            self.stdout.write("")
            self.stdout.write(self.style.SUCCESS(f"Refreshed search columns of {done:,} products."))
            return
        try:
            done = search_index_rebuild(progress=progress, batch_size=batch_size)
        except SearchUnavailable as exc:
            raise CommandError(
                f"OpenSearch did not accept the new index ({exc}). PostgreSQL search is "
                "rebuilt and serving; check OPENSEARCH_URL and the cluster, then run again."
            ) from exc
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"Indexed {done:,} products in {time.monotonic() - started:.1f}s.")
        )
