"""Mail and DNS protection of a domain: MX, SPF, DMARC, DKIM, MTA-STS, STARTTLS, DNSSEC, CAA."""
