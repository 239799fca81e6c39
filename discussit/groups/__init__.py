"""Groups: the directory, membership, access (every permission), the home page and its
stream."""
