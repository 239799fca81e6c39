"""Full-text search over the groups a member belongs to: the search box's language (query.py),
each database's own engine (engines.py), and the page and its live results (routes.py)."""
