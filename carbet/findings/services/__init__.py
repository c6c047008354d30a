"""Domain services of the findings store, shared by the pages, the API, the jobs and the CLI.

``lifecycle`` moves a finding from one status to another (with a reason, an event and an audit
entry); ``manual`` lets auditors write findings; ``io`` imports and exports findings as CSV,
JSON or XLSX; ``acceptance`` runs the risk-acceptance workflow and its daily sweep; ``jobs``
holds their background jobs. Reads are in ``carbet.findings.selectors``.
"""
