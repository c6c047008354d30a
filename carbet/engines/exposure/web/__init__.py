"""Web servers: HTTPS and redirects, security headers, cookies, sensitive paths, the score."""
