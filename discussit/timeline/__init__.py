"""A group's timeline: entries in seq order, appending them, reading them, publishing them."""
