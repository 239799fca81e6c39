"""The live path: the broker and its items, presence, Redis, frame sending, close codes.
Knows nothing about HTML."""
