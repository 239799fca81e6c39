"""For designers and developers: the pattern page, every fragment with sample data."""
