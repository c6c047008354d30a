"""The ``carbet`` command: Carbet's own subcommands plus every Django management command.

Carbet's subcommands (serve, worker, demo, createadmin, backup, restore, audit, ...) are Django
management commands of its apps, so ``carbet help`` lists them all and ``carbet X --help`` works
on each.
"""

from __future__ import annotations

import os
import sys

from carbet.ops.filemodes import private_umask


def main(argv: list[str] | None = None) -> None:
    # Before anything opens a file: the database, keys, uploads and backups this process (and
    # the web server and worker it starts) creates are private to the service account.
    private_umask()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbet.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        args = ["help"]
    if args[0] == "scan":
        # The analyst's one-off scan needs neither the platform's settings nor its apps: run it
        # without them, so it writes nothing where it runs (keys, database) and starts faster.
        from carbet.exposure.management.commands.scan import run_standalone

        if run_standalone(args[1:]):
            return
    execute_from_command_line(["carbet", *args])


if __name__ == "__main__":
    main()
