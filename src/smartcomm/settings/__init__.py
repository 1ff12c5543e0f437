"""User-editable settings stored in the database as typed keys."""
