"""Security by design, pure Python: measures from a service's description, automatic statuses
from facts other services recorded, the cyber index (0–5) and the medico-social track."""
