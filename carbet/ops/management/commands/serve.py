"""``carbet serve``: the one command that runs Carbet (web server, task worker, reaper)."""

from __future__ import annotations

import http.client
import ipaddress
import os
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from carbet.conf import env_bool
from carbet.jobs.services import DATABASE_BACKEND, RQ_BACKEND, backend_path
from carbet.ops import preparation, running
from carbet.ops.supervisor import Child, Supervisor

LOCAL_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_address(host: str, port: int) -> str:
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"


def _probe_host(host: str) -> str:
    bare = host.strip("[]")
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(bare, bare)  # noqa: S104 - a probe target


def answers_as_carbet(host: str, port: int) -> bool:
    """Whether Carbet itself answers on host:port (its responses carry X-Request-Id).

    Only an accepted TCP connection is not enough: another program may hold the port while
    gunicorn retries to bind it.
    """
    connection = http.client.HTTPConnection(_probe_host(host), port, timeout=2)
    try:
        connection.request("GET", "/sante/")
        return bool(connection.getresponse().getheader("X-Request-Id"))
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def wait_until_ready(host: str, port: int, timeout: float, still_alive) -> bool:
    """Until Carbet answers on host:port, or the web server died, or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not still_alive():
            return False
        if answers_as_carbet(host, port):
            return still_alive()
        time.sleep(0.3)
    return False


class Command(BaseCommand):
    help = (
        "Lance Carbet : prépare la base (migrations) et les fichiers statiques si besoin, puis "
        "démarre le serveur web (gunicorn) et, avec la file d'attente en base de données, le "
        "processus de travail des tâches de fond, relancé s'il s'arrête. Ctrl+C ou SIGTERM "
        "arrête tout proprement."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="Adresse d'écoute (défaut : %(default)s)."
        )
        parser.add_argument("--port", type=int, default=8000, help="Port (défaut : %(default)s).")
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("CARBET_WEB_WORKERS", "2")),
            help="Processus du serveur web (défaut : %(default)s, ou CARBET_WEB_WORKERS).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("CARBET_WEB_THREADS", "4")),
            help="Fils d'exécution par processus web (défaut : %(default)s).",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Ne pas lancer de processus de travail (ils tournent ailleurs : carbet worker).",
        )

    def handle(self, *args, host: str, port: int, workers: int, threads: int, **options) -> None:
        if not 0 < port < 65536:
            raise CommandError(_("Port invalide : %(port)s.") % {"port": port})
        if workers < 1 or threads < 1:
            raise CommandError(_("--workers et --threads doivent valoir au moins 1."))
        try:
            # Held until this process ends: "carbet restore" refuses to run meanwhile.
            self._running_lock = running.hold_shared()
        except running.AlreadyRunning as exc:
            raise CommandError(_("Une restauration est en cours : attendez sa fin.")) from exc
        env = dict(os.environ)
        self._choose_cookie_security(host, env)

        steps = preparation.prepare(self.stdout.write)
        for step in steps:
            self.stdout.write(f"• {step}")
        connections.close_all()  # children open their own connections

        children = [
            Child(
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "carbet.wsgi:application",
                    "--config",
                    "python:carbet.ops.gunicorn_conf",
                    "--bind",
                    bind_address(host, port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                ],
                env,
                restart=False,
            )
        ]
        backend = backend_path()
        if backend == DATABASE_BACKEND and not options["no_worker"]:
            children.append(
                Child("worker", [sys.executable, "-m", "carbet.cli", "worker"], env, restart=True)
            )
        elif backend == RQ_BACKEND:
            self.stdout.write(
                _(
                    "• File d'attente Redis (REDIS_URL) : lancez « carbet worker » sur les "
                    "machines de travail (autant que nécessaire)."
                )
            )
        elif options["no_worker"]:
            self.stdout.write(_("• Pas de processus de travail ici (--no-worker)."))

        supervisor = Supervisor(children, on_event=lambda msg: self.stdout.write(f"• {msg}"))
        supervisor.install_signal_handlers()
        supervisor.start_all()
        web = children[0]
        if not wait_until_ready(host, port, 90, web.alive):
            supervisor.stopping = True
            supervisor.stop_all()
            raise CommandError(
                _(
                    "Le serveur web n'a pas démarré sur %(addr)s (port déjà utilisé ? voir les "
                    "messages ci-dessus)."
                )
                % {"addr": bind_address(host, port)}
            )
        self._announce(host, port, children)
        sys.exit(supervisor.run())

    def _choose_cookie_security(self, host: str, env: dict[str, str]) -> None:
        """Plain HTTP on this machine only: let the session cookie work without HTTPS.

        The settings mark cookies Secure unless CARBET_INSECURE_HTTP=1, and browsers refuse to
        send Secure cookies over plain http (some make an exception for localhost, not all):
        the login page would loop. When serving on loopback only, without a proxy, nobody else
        can listen to the traffic, so serve relaxes it for its children unless the operator
        chose explicitly. In production, an HTTPS reverse proxy sits in front
        (CARBET_BEHIND_PROXY=1) and cookies stay Secure.
        """
        behind_proxy = env_bool("CARBET_BEHIND_PROXY", False)
        explicit = os.environ.get("CARBET_INSECURE_HTTP")
        if is_loopback(host) and not behind_proxy and explicit is None:
            env["CARBET_INSECURE_HTTP"] = "1"
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Attention : HTTP sans chiffrement, sur cette machine seulement "
                        "(CARBET_INSECURE_HTTP=1 pour ce lancement). Pour ouvrir Carbet au "
                        "réseau, placez-le derrière un proxy HTTPS (docs/operations.md)."
                    )
                )
            )
        elif not is_loopback(host) and not behind_proxy and not env_bool("CARBET_INSECURE_HTTP"):
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Attention : écoute sur %(host)s en HTTP, mais les cookies de session "
                        "exigent HTTPS : la connexion échouera dans le navigateur. Placez "
                        "Carbet derrière un proxy HTTPS et définissez CARBET_BEHIND_PROXY=1 "
                        "(docs/operations.md)."
                    )
                    % {"host": host}
                )
            )

    def _announce(self, host: str, port: int, children: list[Child]) -> None:
        try:
            login_path = reverse(settings.LOGIN_URL)
        except NoReverseMatch:
            login_path = "/"
        shown_host = f"[{host.strip('[]')}]" if ":" in host else host
        scheme = "https" if env_bool("CARBET_BEHIND_PROXY", False) else "http"
        pids = ", ".join(f"{child.name} pid {child.pid}" for child in children)
        self.stdout.write(self.style.SUCCESS(_("Carbet est prêt (%(pids)s).") % {"pids": pids}))
        if scheme == "https":
            self.stdout.write(
                _("Connexion : par l'adresse publique de votre proxy HTTPS, chemin %(path)s")
                % {"path": login_path}
            )
        else:
            self.stdout.write(
                _("Connexion : http://%(host)s:%(port)s%(path)s")
                % {"host": shown_host, "port": port, "path": login_path}
            )
        if preparation.no_account_yet():
            self.stdout.write(
                _(
                    "Aucun compte n'existe encore : créez le premier administrateur avec "
                    "« carbet createadmin »."
                )
            )
        self.stdout.flush()
