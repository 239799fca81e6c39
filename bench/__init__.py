"""DiscussIt's fan-out benchmark: the real app against a bare relay, measured in one run."""
