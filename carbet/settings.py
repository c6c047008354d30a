"""Django settings for Carbet, all driven by environment variables (see ``carbet.conf``)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from carbet import conf

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = conf.ensure_private_dir(conf.data_dir())

DEBUG = conf.env_bool("CARBET_DEBUG", False)
SECRET_KEY = conf.secret_key(DATA_DIR)
CARBET_ENCRYPTION_KEYS = conf.encryption_keys(DATA_DIR)
# Audit trail key(s), newest first, kept apart from the database (else DATA_DIR/keys/audit.key
# or CARBET_AUDIT_KEY_FILE, created on first use); external anchoring of the trail's head.
CARBET_AUDIT_KEYS = conf.env_list("CARBET_AUDIT_KEYS", [])
CARBET_AUDIT_KEY_FILE = os.environ.get("CARBET_AUDIT_KEY_FILE") or None
CARBET_AUDIT_ANCHOR_EMAIL = conf.env_list("CARBET_AUDIT_ANCHOR_EMAIL", [])
CARBET_AUDIT_ANCHOR_FILE = os.environ.get("CARBET_AUDIT_ANCHOR_FILE") or None
ALLOWED_HOSTS = conf.env_list("CARBET_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = conf.env_list("CARBET_CSRF_TRUSTED_ORIGINS", [])

# Name shown in the interface: one Carbet instance serves one region.
CARBET_REGION_NAME = os.environ.get("CARBET_REGION_NAME", "Région")
# Lab setting: accept loopback addresses as internet assets (tests and the demo region only).
CARBET_ALLOW_LOOPBACK_ASSETS = conf.env_bool("CARBET_ALLOW_LOOPBACK_ASSETS", False)
# Largest network an asset may declare (an IPv4 /22 is 1,024 addresses; IPv6 /118 likewise).
CARBET_MAX_CIDR_ADDRESSES = int(os.environ.get("CARBET_MAX_CIDR_ADDRESSES", "1024"))
# The centre's own address ranges: no scan made through the platform may ever connect there
# (comma-separated addresses or CIDR networks), whatever a name, MX or redirect points to.
CARBET_CENTRE_NETWORKS = conf.env_list("CARBET_CENTRE_NETWORKS", [])
# Ports where the ownership proof file is fetched (HTTPS, then HTTP); labs point them elsewhere.
CARBET_PROOF_WEB_PORTS = tuple(
    int(port) for port in conf.env_list("CARBET_PROOF_WEB_PORTS", ["443", "80"])[:2]
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "django_tasks_db",
    # Only for the Swagger UI files it ships: the API docs page must not depend on a CDN.
    "ninja",
    "carbet.accounts",
    "carbet.audit",
    "carbet.core",
    "carbet.jobs",
    "carbet.ops",
    "carbet.findings",
    # The services: every carbet/<app>/service.py (carbet.core.contract), found, not listed.
    *conf.service_apps(BASE_DIR),
    "carbet.api",
    "carbet.web",
    "carbet.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Right after WhiteNoise: every dynamic response (pages, exports, API) gets no-store, static
    # assets answered by WhiteNoise above keep their long cache.
    "carbet.web.middleware.NoStoreMiddleware",
    # Services' declared fast paths (a simulation's open pixel) before the staff stack.
    "carbet.web.middleware.ServiceFastPathMiddleware",
    "carbet.web.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "carbet.web.middleware.ChartLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "carbet.accounts.middleware.MfaEnforcementMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "carbet.urls"
WSGI_APPLICATION = "carbet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "carbet.web.context.navigation",
            ],
        },
    },
]

# --- Database: SQLite in the data directory unless DATABASE_URL says otherwise -------------
_sqlite_path = DATA_DIR / "carbet.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{_sqlite_path}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # The web server and the worker share one file: WAL lets readers run beside a writer,
        # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000;"
        ),
    }
    _test_db = os.environ.get("CARBET_TEST_SQLITE")
    if _test_db:
        # Worker processes started by the tests must see the test database: keep it on disk.
        DATABASES["default"]["TEST"] = {"NAME": _test_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks ----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
if os.environ.get("CARBET_TASKS_IMMEDIATE") == "1":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# A running job that has not beaten its heart for this long belongs to a dead worker.
CARBET_JOB_STALE_SECONDS = int(os.environ.get("CARBET_JOB_STALE_SECONDS", "120"))
CARBET_JOB_HEARTBEAT_SECONDS = int(os.environ.get("CARBET_JOB_HEARTBEAT_SECONDS", "15"))

# --- Services -----------------------------------------------------------------------------------
# Exposure scans: the resolver ("IP" or "IP:PORT") and the trust store (PEM) they use, when not
# the system's.
CARBET_EXPOSURE_NAMESERVER = os.environ.get("CARBET_EXPOSURE_NAMESERVER", "")
CARBET_EXPOSURE_CA_FILE = os.environ.get("CARBET_EXPOSURE_CA_FILE", "")

# --- Authentication and sessions -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule on the password: Django calls it after every password change, whatever the
    # path (even its own changepassword command), to revoke the account's API tokens.
    {"NAME": "carbet.accounts.passwords.RevokeTokensOnChange"},
]
CARBET_LOCKOUT_THRESHOLD = int(os.environ.get("CARBET_LOCKOUT_THRESHOLD", "5"))
CARBET_LOCKOUT_WINDOW_SECONDS = int(os.environ.get("CARBET_LOCKOUT_WINDOW_SECONDS", "900"))
CARBET_LOCKOUT_SECONDS = int(os.environ.get("CARBET_LOCKOUT_SECONDS", "900"))
OTP_TOTP_ISSUER = "Carbet"

SESSION_COOKIE_AGE = int(os.environ.get("CARBET_SESSION_SECONDS", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- HTTPS-ready defaults: on unless CARBET_INSECURE_HTTP says this is a local HTTP setup ----
_plain_http = conf.env_bool("CARBET_INSECURE_HTTP", False)
SESSION_COOKIE_SECURE = not _plain_http
CSRF_COOKIE_SECURE = not _plain_http
SECURE_SSL_REDIRECT = conf.env_bool("CARBET_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("CARBET_HSTS_SECONDS", "0" if _plain_http else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if conf.env_bool("CARBET_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}

# --- Internationalisation: French first, English second -------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("CARBET_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Carbet's own CSS/JS (carbet/static) is not inside an app directory: list it explicitly.
STATICFILES_DIRS: list[Path] = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "uploads"
MEDIA_URL = "/media-not-served/"  # uploads are never served directly: views check rights first
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
CARBET_MAX_UPLOAD_BYTES = int(os.environ.get("CARBET_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if os.environ.get("CARBET_PLAIN_STATIC") == "1"
            else "carbet.ops.static.CarbetStaticStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging: one JSON object per line on stderr ---------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "carbet.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("CARBET_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# --- E-mail (Django 6.1 MAILERS) ---------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("CARBET_MAIL_FROM", "carbet@localhost")
if os.environ.get("CARBET_SMTP_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["CARBET_SMTP_HOST"],
                "port": int(os.environ.get("CARBET_SMTP_PORT", "25")),
                "use_tls": conf.env_bool("CARBET_SMTP_STARTTLS", False),
                "timeout": 30,
            },
        }
    }
elif conf.env_bool("CARBET_MAIL_TO_FILES", False):
    # No SMTP server and quiet output wanted (``carbet demo``, ``scripts/run-demo``): each
    # message is written to a file under the data directory instead of the console.
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "mail")},
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# --- API ------------------------------------------------------------------------------------
CARBET_API_PAGE_SIZE = 50
# Personal API tokens always expire: the lifetime given when none is chosen, and the longest
# one may choose (days). A password change revokes every token of the account.
CARBET_API_TOKEN_MAX_DAYS = max(1, int(os.environ.get("CARBET_API_TOKEN_MAX_DAYS", "365")))
CARBET_API_TOKEN_DAYS = min(
    CARBET_API_TOKEN_MAX_DAYS, max(1, int(os.environ.get("CARBET_API_TOKEN_DAYS", "90")))
)
CARBET_API_MAX_PAGE_SIZE = 500
