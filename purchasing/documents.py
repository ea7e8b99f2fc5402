"""A purchase order as CSV and PDF (fpdf2), for the supplier's email and the portal."""

from __future__ import annotations

import csv
import io

from purchasing.models import PurchaseOrder

CSV_HEADER = ["po_number", "sku", "product", "quantity", "unit_cost", "currency", "line_total"]


def _rows(order: PurchaseOrder) -> list[list[str]]:
    rows = []
    for line in order.lines.select_related("variant__product").order_by("pk"):
        rows.append(
            [
                order.number,
                line.variant.sku,
                line.variant.product.name,
                str(line.quantity),
                str(line.unit_cost),
                order.currency,
                str(line.unit_cost * line.quantity),
            ]
        )
    return rows


def purchase_order_csv(*, order: PurchaseOrder) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(_rows(order))
    return out.getvalue()


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def purchase_order_pdf(*, order: PurchaseOrder) -> bytes:
    from fpdf import FPDF  # a quarter second to import: only where a PDF is made

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"Purchase order {order.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for text in (
        f"From: {order.seller.name}",
        f"To: {order.supplier.name}",
        f"Deliver to: {order.warehouse.name}, {order.warehouse.line1} {order.warehouse.city} "
        f"{order.warehouse.postal_code} {order.warehouse.country}",
        f"Expected on: {order.expected_on or '-'}",
    ):
        pdf.cell(0, 6, _latin(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(col_widths=(30, 70, 20, 25, 30)) as table:
        table.row(["SKU", "Product", "Qty", "Unit cost", "Total"])
        for row in _rows(order):
            table.row([_latin(row[1]), _latin(row[2]), row[3], row[4], f"{row[6]} {row[5]}"])
    return bytes(pdf.output())
