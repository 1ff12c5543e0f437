"""CSV import of customers, receipts with their lines, and products."""
