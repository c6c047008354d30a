"""The community's home page (``/communaute/``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from carbet.community import selectors_home
from carbet.community.service import CommunityPerm
from carbet.core.access import require


@login_required
def home(request):
    require(request.user, CommunityPerm.VIEW)
    return render(request, "community/home.html", {"page": selectors_home.home(request.user)})
