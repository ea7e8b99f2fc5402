"""Bulk CSV export and import of a seller's products, variants, prices and stock.

columns.py: the file's columns and how values are written and read.
export.py: the streamed export (one row per variant).
imports.py: the dry run (every row's errors), the import job and its all-or-nothing run, through
the catalog and inventory services the API and admin use.
The column reference for sellers is docs/seller-portal.md.
"""
