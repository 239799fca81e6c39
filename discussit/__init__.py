"""DiscussIt: self-hosted real-time group chat."""

__version__ = "0.1.0"
