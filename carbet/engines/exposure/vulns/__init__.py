"""Known vulnerabilities: local feeds (NVD, KEV, EPSS, CERT-FR), CPE names, version ranges."""
