"""Gunicorn settings for ``carbet serve`` (bind address, workers and threads come from its
command line). Loaded with ``-c python:carbet.ops.gunicorn_conf``.

- gthread workers: a few processes, each with a thread pool, suit a server-rendered Django app
  whose requests mostly wait on the database.
- No access log: ``carbet.web.middleware.RequestLogMiddleware`` already writes one JSON line per
  request, with the request id and the user; Gunicorn's own messages are JSON too.
- No control socket: its default path is per user, and two instances would fight over it.
"""

from __future__ import annotations

import os

from carbet.ops.filemodes import PRIVATE_UMASK, private_umask

# The master reads this file before forking its workers: they inherit a private umask even when
# gunicorn is started by hand. Gunicorn's own "umask" applies to its socket and temp files.
private_umask()
umask = PRIVATE_UMASK
worker_class = "gthread"
threads = 4
accesslog = None
errorlog = "-"
loglevel = os.environ.get("CARBET_LOG_LEVEL", "INFO").lower()
timeout = 60
graceful_timeout = 30
keepalive = 5
control_socket_disable = True
# Only the local reverse proxy may say which scheme and client the request came with.
forwarded_allow_ips = os.environ.get("CARBET_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "carbet-web"

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "carbet.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
    "root": {"handlers": ["stderr"], "level": loglevel.upper()},
}
