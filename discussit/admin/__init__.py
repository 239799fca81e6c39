"""The staff area (`/admin`, staff only): people (staff or not, deactivated or not) and the audit
log of what staff did. Every action is written to the log in its own transaction."""
