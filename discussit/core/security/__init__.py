"""Guards at every entry point: CSRF, security headers, origins, rate limits, the text
policy."""
