import os

from django.core.wsgi import get_wsgi_application

from carbet.ops.filemodes import private_umask

# Also when a WSGI server loads Carbet directly (not through "carbet serve"): private files.
private_umask()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbet.settings")
application = get_wsgi_application()
