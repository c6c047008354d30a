"""Community events through the pages, the public calendar feed and the API: what each person
sees, registering and cancelling, the centre's forms, and refusals across structures (B's users
never see an event targeted only at A, nor A's registrations; one person's feed never shows
another's)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from carbet.community import services_events as services
from carbet.community.choices import EventStatus, RegistrationStatus
from carbet.community.models import CalendarFeed, Event, Registration
from tests.api.conftest import assert_error, token_client
from tests.community.test_events import make_event

SECRET = "CH Alpha-Secret formation"


@pytest.fixture
def agenda(region):
    """An event for A only (with a registration of A's director), and one for everyone."""
    only_a = make_event(region, title=SECRET, structures=[region.a.pk], capacity=1)
    everyone = make_event(region, title="Webinaire hameçonnage", kind="webinar")
    registration = services.register(region.users["director"], only_a, region.a, notify=False)
    return {"only_a": only_a, "everyone": everyone, "registration": registration}


def summaries(data: bytes) -> set[str]:
    return {str(v["SUMMARY"]) for v in Calendar.from_ical(data).walk("VEVENT")}


# --- pages -----------------------------------------------------------------------------------


def test_agenda_pages_show_only_the_persons_events(region, agenda):
    page = region.client("director").get("/communaute/agenda/")
    assert page.status_code == 200
    text = page.content.decode()
    assert SECRET in text and "Webinaire hameçonnage" in text and "Vous êtes inscrit" in text
    page_b = region.client("director_b").get("/communaute/agenda/")
    assert page_b.status_code == 200
    assert SECRET not in page_b.content.decode()
    assert "Webinaire hameçonnage" in page_b.content.decode()
    assert region.client("ars_viewer").get("/communaute/agenda/").status_code == 403
    detail = region.client("director").get(f"/communaute/agenda/{agenda['only_a'].pk}/")
    assert detail.status_code == 200
    assert "Annuler mon inscription" in detail.content.decode()
    assert "<h2" in detail.content.decode() and "Au programme" in detail.content.decode()


def test_another_structure_gets_404_on_every_event_route(region, agenda):
    client = region.client("director_b")
    pk, reg = agenda["only_a"].pk, agenda["registration"].pk
    for path in (
        f"/communaute/agenda/{pk}/",
        f"/communaute/agenda/{pk}/evenement.ics",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.post(f"/communaute/agenda/{pk}/inscription/", {"structure": region.b.pk}).status_code
        == 404
    )
    assert client.post(f"/communaute/agenda/inscription/{reg}/annuler/").status_code == 404
    for path in (
        f"/communaute/agenda/{pk}/modifier/",
        f"/communaute/agenda/{pk}/annuler/",
        f"/communaute/agenda/{pk}/inscriptions/",
        f"/communaute/agenda/{pk}/inscriptions.csv",
        "/communaute/agenda/nouveau/",
    ):
        assert client.get(path).status_code == 403, path
        assert client.post(path).status_code in (403, 405), path
    assert Registration.objects.get(pk=reg).status == RegistrationStatus.REGISTERED
    assert Event.objects.get(pk=pk).status == EventStatus.SCHEDULED


def test_register_and_cancel_through_the_pages(region, agenda):
    event = agenda["only_a"]
    client = region.client("referent")
    page = client.get(f"/communaute/agenda/{event.pk}/").content.decode()
    assert "liste d&#x27;attente" in page or "liste d'attente" in page
    # B's structure in the form is refused: not one of the person's.
    refused = client.post(f"/communaute/agenda/{event.pk}/inscription/", {"structure": region.b.pk})
    assert refused.status_code == 422
    response = client.post(
        f"/communaute/agenda/{event.pk}/inscription/", {"structure": region.a.pk}
    )
    assert response.status_code == 302
    mine = Registration.objects.get(event=event, user=region.users["referent"])
    assert mine.status == RegistrationStatus.WAITLIST
    # A colleague cannot cancel someone else's registration.
    other = agenda["registration"]
    assert client.post(f"/communaute/agenda/inscription/{other.pk}/annuler/").status_code == 403
    director = region.client("director")
    assert director.post(f"/communaute/agenda/inscription/{other.pk}/annuler/").status_code == 302
    mine.refresh_from_db()
    assert mine.status == RegistrationStatus.REGISTERED


def test_ics_download(region, agenda):
    response = region.client("director").get(
        f"/communaute/agenda/{agenda['everyone'].pk}/evenement.ics"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert summaries(response.content) == {"Webinaire hameçonnage"}
    # The connection link is for the people registered (and the centre) only.
    visio = make_event(region, title="Visio", online_url="https://visio.example/secret-room")
    path = f"/communaute/agenda/{visio.pk}/evenement.ics"
    client = region.client("director")
    assert b"secret-room" not in client.get(path).content
    assert "secret-room" not in client.get(f"/communaute/agenda/{visio.pk}/").content.decode()
    services.register(region.users["director"], visio, region.a, notify=False)
    assert b"secret-room" in client.get(path).content
    assert b"secret-room" in region.client("centre_analyst").get(path).content


def _form(**over) -> dict:
    start = timezone.localtime(timezone.now() + dt.timedelta(days=15)).replace(second=0)
    data = {
        "title": "Exercice régional de crise",
        "kind": "exercise",
        "description": "Une journée d'exercice.",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
        "location": "Pointe-à-Pitre",
        "online_url": "",
        "capacity": "40",
        "registration_closes_at": "",
        "departements": "971, 972",
        "products": "",
        "categories": ["ch", "ehpad"],
    }
    data.update(over)
    return data


def test_the_centre_creates_edits_and_cancels_through_the_pages(region, smtp_inbox):
    client = region.client("centre_analyst")
    assert client.get("/communaute/agenda/nouveau/").status_code == 200
    bad = client.post("/communaute/agenda/nouveau/", _form(location=""))
    assert bad.status_code == 422
    response = client.post("/communaute/agenda/nouveau/", _form())
    assert response.status_code == 302
    event = Event.objects.get()
    assert event.departements == ["971", "972"] and event.categories == ["ch", "ehpad"]
    assert event.capacity == 40
    services.register(region.users["director_b"], event, region.b, notify=False)
    edit = f"/communaute/agenda/{event.pk}/modifier/"
    assert client.get(edit).status_code == 200
    assert (
        client.post(edit, _form(title="Exercice régional", location="Basse-Terre")).status_code
        == 302
    )
    event.refresh_from_db()
    assert event.title == "Exercice régional" and event.sequence == 1
    assert "Événement modifié" in smtp_inbox.by_recipient()["dir@beta.test"][-1]["Subject"]
    registrations = client.get(f"/communaute/agenda/{event.pk}/inscriptions/")
    assert registrations.status_code == 200 and "dir@beta.test" in registrations.content.decode()
    csv = client.get(f"/communaute/agenda/{event.pk}/inscriptions.csv")
    assert csv.status_code == 200 and "EHPAD Beta" in csv.content.decode()
    cancel = f"/communaute/agenda/{event.pk}/annuler/"
    assert client.get(cancel).status_code == 200
    assert client.post(cancel, {"reason": "Alerte cyclonique"}).status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED and event.sequence == 2
    assert "Alerte cyclonique" in (
        smtp_inbox.by_recipient()["dir@beta.test"][-1].get_body(("plain",)).get_content()
    )
    # Structure people never reach the centre's pages.
    for role in ("director", "referent"):
        assert region.client(role).get("/communaute/agenda/nouveau/").status_code == 403


# --- the private calendar feed ---------------------------------------------------------------


def test_feed_page_shows_the_address_once_and_the_feed_needs_no_session(region, agenda):
    client = region.client("director")
    assert "Créer mon adresse" in client.get("/communaute/agenda/mon-agenda/").content.decode()
    created = client.post("/communaute/agenda/mon-agenda/", {"action": "create"})
    text = created.content.decode()
    start = text.index("/agenda-ical/")
    url = text[start : text.index('"', start)]
    token = url.removeprefix("/agenda-ical/").removesuffix(".ics")
    assert CalendarFeed.objects.get().token_digest == services.feed_digest(token)
    assert token not in client.get("/communaute/agenda/mon-agenda/").content.decode()

    anonymous = Client()  # a calendar program: no cookie, no session
    response = anonymous.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "no-store" and "sessionid" not in response.cookies
    assert summaries(response.content) == {SECRET}
    assert anonymous.head(url).status_code == 200
    assert anonymous.post(url).status_code == 405

    # B's director has a feed too: it never lists A's registrations, and A's never lists B's.
    services.register(region.users["director_b"], agenda["everyone"], region.b, notify=False)
    token_b = services.create_feed(region.users["director_b"])
    assert summaries(anonymous.get(f"/agenda-ical/{token_b}.ics").content) == {
        "Webinaire hameçonnage"
    }
    assert summaries(anonymous.get(url).content) == {SECRET}

    client.post("/communaute/agenda/mon-agenda/", {"action": "regenerate"})
    assert anonymous.get(url).status_code == 404
    client.post("/communaute/agenda/mon-agenda/", {"action": "revoke"})
    assert not CalendarFeed.objects.filter(user=region.users["director"]).exists()
    assert region.client("ars_viewer").get("/communaute/agenda/mon-agenda/").status_code == 403


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    token=st.text(max_size=80)
    | st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        min_size=43,
        max_size=43,
    )
)
def test_hostile_tokens_are_a_plain_404(region, token):
    assert services.open_feed(token) is None
    response = Client().get("/agenda-ical/" + quote(token, safe="") + ".ics")
    assert response.status_code == 404


def test_the_feed_is_cheap(region, agenda, django_assert_max_num_queries):
    """Calendar programs poll often: the token lookup, the person's rights and one query for
    the events (plus, at most once an hour, the date of the last fetch)."""
    for event in (agenda["everyone"], make_event(region, title="Encore un")):
        services.register(region.users["director"], event, region.a, notify=False)
    token = services.create_feed(region.users["director"])
    client = Client()
    with django_assert_max_num_queries(4):
        assert client.get(f"/agenda-ical/{token}.ics").status_code == 200
    with django_assert_max_num_queries(3):
        response = client.get(f"/agenda-ical/{token}.ics")
    assert len(summaries(response.content)) == 3
    with django_assert_max_num_queries(1):
        assert client.get(f"/agenda-ical/{'x' * 43}.ics").status_code == 404


def test_a_known_token_of_a_closed_account_is_a_404(region, agenda):
    token = services.create_feed(region.users["director"])
    assert Client().get(f"/agenda-ical/{token}.ics").status_code == 200
    for wrong in (
        token[:-1],
        token + "A",
        token.upper(),
        f"{token}/x",
        services.feed_digest(token),
    ):
        assert Client().get(f"/agenda-ical/{wrong}.ics").status_code == 404, wrong
    region.users["director"].memberships.all().delete()
    assert Client().get(f"/agenda-ical/{token}.ics").status_code == 404


# --- API -------------------------------------------------------------------------------------


def test_api_lists_registers_and_cancels(region, agenda):
    director = token_client(region.users["director"])
    body = director.get("/community/events").json()
    assert {e["title"] for e in body["results"]} == {SECRET, "Webinaire hameçonnage"}
    only_a = next(e for e in body["results"] if e["title"] == SECRET)
    assert only_a["my_registration"]["status"] == "registered" and only_a["places_left"] == 0
    detail = director.get(f"/community/events/{agenda['everyone'].pk}").json()
    assert [s["id"] for s in detail["registrable_structures"]] == [region.a.pk]
    created = director.post(
        f"/community/events/{agenda['everyone'].pk}/registrations", {"structure": region.a.pk}
    )
    assert created.status_code == 201 and created.json()["status"] == "registered"
    assert_error(
        director.post(
            f"/community/events/{agenda['everyone'].pk}/registrations", {"structure": region.a.pk}
        ),
        422,
    )
    cancelled = director.post(
        f"/community/events/event-registrations/{created.json()['id']}/cancel"
    )
    assert cancelled.status_code == 200 and cancelled.json()["my_registration"] is None
    assert_error(director.get(f"/community/events/{agenda['only_a'].pk}/registrations"), 403)
    centre = token_client(region.users["centre_analyst"]).get(
        f"/community/events/{agenda['only_a'].pk}/registrations"
    )
    assert centre.status_code == 200
    assert centre.json()[0]["registrations"][0]["email"] == "dir@alpha.test"


def test_api_refuses_another_structure(region, agenda):
    b = token_client(region.users["director_b"])
    pk, reg = agenda["only_a"].pk, agenda["registration"].pk
    body = b.get("/community/events").json()
    assert SECRET not in str(body)
    assert_error(b.get(f"/community/events/{pk}"), 404)
    assert_error(b.post(f"/community/events/{pk}/registrations", {"structure": region.b.pk}), 404)
    assert_error(
        b.post(
            f"/community/events/{agenda['everyone'].pk}/registrations", {"structure": region.a.pk}
        ),
        404,
    )
    assert_error(b.post(f"/community/events/event-registrations/{reg}/cancel"), 404)
    assert_error(b.get(f"/community/events/{pk}/registrations"), 403)
    assert_error(token_client(region.users["ars_viewer"]).get("/community/events"), 403)
    assert Registration.objects.get(pk=reg).status == RegistrationStatus.REGISTERED


def test_past_events_through_the_api(region):
    make_event(
        region,
        title="Passé",
        starts_at=timezone.now() - dt.timedelta(days=3),
        ends_at=timezone.now() - dt.timedelta(days=3, hours=-1),
    )
    client = token_client(region.users["director"])
    assert client.get("/community/events").json()["count"] == 0
    assert client.get("/community/events", past="true").json()["count"] == 1
