"""Domain-free building blocks shared by every area of the product."""
