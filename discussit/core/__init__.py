"""Infrastructure every feature builds on: database, templates, web helpers, security and the
live path. Imports settings and models, never a feature."""
