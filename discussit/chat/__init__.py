"""Chat in a group: its page, posting, the group socket and its ordered feed, presence
updates."""
