"""The demo's injectable clock: run a real service "on" a past day.

The services take ``now`` where it matters (ingest, plans, snapshots); the few that read the
time themselves (an audit's or a scan's ``finished_at``, the automatic evidence they hand to
the roadmap) read ``django.utils.timezone.now``. ``frozen_at`` sets that one clock for the
duration of a call, so a replayed audit is dated the day it happened everywhere it shows
(the directory page, the finding's label, the CaRE evidence) instead of the day of the load.
Field defaults captured at import time (``default=timezone.now``) are not affected: callers
set those dates explicitly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from unittest import mock

from django.utils import timezone


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[datetime]:
    with mock.patch.object(timezone, "now", lambda: moment):
        yield moment
