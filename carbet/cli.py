"""The ``carbet`` command: Carbet's own subcommands plus every Django management command.

Carbet's subcommands (serve, worker, demo, createadmin, backup, restore, audit, ...) are Django
management commands of its apps, so ``carbet help`` lists them all and ``carbet X --help`` works
on each.
"""

from __future__ import annotations

import os
import sys

from carbet.ops.filemodes import private_umask


def gettext_noop(text: str) -> str:
    """Django's ``gettext_noop`` without its settings (this module loads before them): the
    name is what ``makemessages`` looks for; the text is translated where it is shown."""
    return text


def quiet_library_warnings() -> None:
    """dnspython's DNSSEC module names the DSA key classes when imported, and cryptography
    warns about DSA then: a library's internal notice, printed before every command's output.
    Carbet never signs or accepts DSA, so that notice (and only it) is silenced."""
    import warnings

    warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"dns\.")


def main(argv: list[str] | None = None) -> None:
    # Before anything opens a file: the database, keys, uploads and backups this process (and
    # the web server and worker it starts) creates are private to the service account.
    private_umask()
    quiet_library_warnings()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbet.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args in (["-h"], ["--help"], ["help"]):
        import django

        django.setup()
        sys.stdout.write(carbet_help())
        return
    if args[0] == "demo":
        # The demo's notification e-mails go to files (data/mail/), not around the logins.
        os.environ.setdefault("CARBET_MAIL_TO_FILES", "1")
    if args == ["help", "--all"]:
        args = ["help"]  # Django's own list of every command
    if args[0] == "scan":
        # The analyst's one-off scan needs neither the platform's settings nor its apps: run it
        # without them, so it writes nothing where it runs (keys, database) and starts faster.
        from carbet.exposure.management.commands.scan import run_standalone

        if run_standalone(args[1:]):
            return
    from django.db import DatabaseError

    try:
        execute_from_command_line(["carbet", *args])
    except DatabaseError:
        explain_stale_database(args[0])
        raise


# Commands that bring the database up to date themselves, or must see the raw error.
MIGRATING = {"migrate", "serve", "makemigrations", "showmigrations", "sqlmigrate"}


def explain_stale_database(command: str) -> None:
    """After an upgrade, a command run before the database was migrated meets a missing table
    or column: say so in plain words and exit, instead of a stack trace. Any other database
    error is left to its own message (the caller re-raises)."""
    if command in MIGRATING:
        return
    from django.db import DatabaseError
    from django.utils.translation import gettext as _

    from carbet.ops.preparation import pending_migrations

    try:
        pending = pending_migrations()
    except DatabaseError:
        return
    if not pending:
        return
    sys.stderr.write(
        _(
            "La base de données n'est pas à jour pour cette version de Carbet "
            "(%(n)d migration(s) en attente). Lancez « carbet migrate » (ou redémarrez "
            "« carbet serve », qui le fait), puis recommencez.\n"
        )
        % {"n": len(pending)}
    )
    raise SystemExit(2)


# Carbet's own commands, in the order a newcomer needs them. The services' commands are found
# from the service contract (``carbet.core.contract``): a new service's commands appear under
# "Services" without this file naming them; any other Carbet command appears under "Autres".
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    (gettext_noop("Mise en route"), ("demo", "serve", "worker", "createadmin", "setpassword-link")),
    (gettext_noop("Services"), ("findings", "import", "ownership")),
    (gettext_noop("Exploitation et sécurité"), ("backup", "restore", "keys", "audit", "tasks",
                                  "permissions-doc")),
]  # fmt: skip
# One line each where the command's own help opens with a long sentence.
DESCRIPTIONS = {
    "demo": gettext_noop("Charge la région de démonstration, avec un compte par rôle"),
    "serve": gettext_noop("Lance Carbet : serveur web et tâches de fond"),
    "setpassword-link": gettext_noop("Lien à usage unique pour choisir un mot de passe"),
    "import": gettext_noop("Importe des structures ou des actifs (CSV, XLSX)"),
    "backup": gettext_noop("Sauvegarde complète dans une archive .tar.gz"),
    "permissions-doc": gettext_noop("Matrice des rôles et des permissions (Markdown)"),
}
HIDDEN = {"flush"}  # Carbet's override of Django's flush: same use, listed by Django's help


def _summary(text: str, width: int = 72) -> str:
    """The first sentence of a command's help, cut to ``width``."""
    text = " ".join((text or "").split())
    cuts = [text.index(end) for end in (". ", " : ", ": ") if end in text]
    if cuts:
        text = text[: min(cuts)]
    text = text.rstrip(".")
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def carbet_help() -> str:
    """``carbet --help``: Carbet's commands grouped and described, then where to find more."""
    from django.core.management import get_commands, load_command_class
    from django.utils.translation import gettext as _

    from carbet import __version__

    own = {
        name: app
        for name, app in get_commands().items()
        if app.startswith("carbet") and name not in HIDDEN
    }
    from carbet.core import contract

    service_apps = [f"carbet.{spec.name}" for spec in contract.services()]
    by_service = tuple(
        name for app in service_apps for name in sorted(n for n, a in own.items() if a == app)
    )
    groups = [
        (title, by_service + names if title == "Services" else names) for title, names in GROUPS
    ]
    listed = {name for _title, names in groups for name in names}
    groups.append((gettext_noop("Autres"), tuple(sorted(set(own) - listed))))
    lines = [
        _("Carbet %(version)s — plateforme cyber d'un centre régional de ressources santé.")
        % {"version": __version__},
        "",
        _("Usage : carbet <commande> [options]   ·   carbet <commande> --help pour le détail"),
        "",
    ]
    for title, names in groups:
        present = [name for name in names if name in own]
        if not present:
            continue
        lines.append(f"{_(title)} :")
        for name in present:
            if name in DESCRIPTIONS:
                text = _(DESCRIPTIONS[name])
            else:
                text = _summary(str(load_command_class(own[name], name).help or ""))
            lines.append(f"  {name:<18}{text}")
        lines.append("")
    lines.append(
        _(
            "Première fois ? « carbet demo » charge une région de démonstration, puis "
            "« carbet serve » ouvre Carbet sur http://127.0.0.1:8000."
        )
    )
    lines.append(_("Commandes de Django (migrate, shell, check…) : carbet help --all"))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
