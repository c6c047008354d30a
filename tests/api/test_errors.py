"""Every error of the API has the same shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import json

from django.test import RequestFactory, override_settings

from carbet.api.urls import api as ninja_api
from carbet.core.models import Asset
from tests.api.conftest import assert_error


def test_malformed_json_body_is_a_400(region, api):
    response = api("director").post(f"/structures/{region.a.pk}/assets", b'{"kind": "domain",')
    error = assert_error(response, 400, "invalid_json")
    assert "JSON" in error["message"]


def test_body_that_is_not_utf8_is_a_400(region, api):
    response = api("director").post(f"/structures/{region.a.pk}/assets", b"\xff\xfe{")
    assert_error(response, 400, "invalid_json")


def test_wrong_types_are_a_422_with_details_per_field(region, api):
    response = api("director").post(
        f"/structures/{region.a.pk}/assets",
        {"kind": "planet", "value": 12, "internet_exposed": "maybe", "colour": "red"},
    )
    error = assert_error(response, 422, "validation_error")
    assert set(error["details"]) == {"kind", "value", "internet_exposed", "colour"}
    assert "domain" in error["details"]["kind"][0]
    assert error["details"]["colour"] == ["Champ inconnu : retirez-le (voyez le schéma OpenAPI)."]


def test_a_json_array_instead_of_an_object_is_a_422(region, api):
    response = api("director").post(f"/structures/{region.a.pk}/assets", [1, 2])
    assert_error(response, 422, "validation_error")


def test_missing_fields_are_named(region, api):
    error = assert_error(api("director").post(f"/structures/{region.a.pk}/assets", {}), 422)
    assert error["details"] == {
        "kind": ["Ce champ est obligatoire."],
        "value": ["Ce champ est obligatoire."],
    }


def test_registry_rules_come_back_per_field(region, api):
    """A Django ValidationError raised by the services keeps its field names in details."""
    response = api("director").post(
        f"/structures/{region.a.pk}/assets", {"kind": "ipv4", "value": "not-an-address"}
    )
    error = assert_error(response, 422, "validation_error")
    assert list(error["details"]) == ["value"]


def test_an_invalid_finess_is_reported_on_its_field(region, api):
    response = api("centre_analyst").post(
        "/organisations", {"finess_ej": "123456789", "name": "X", "legal_status": "public"}
    )
    error = assert_error(response, 422)
    assert "finess_ej" in error["details"]


def test_unknown_id_is_a_404(region, api):
    client = api("centre_admin")
    for path in ("/assets/999999", "/structures/999999", "/mandates/999999"):
        assert_error(client.get(path), 404, "not_found")
    assert_error(client.patch("/contacts/999999", {}), 404, "not_found")
    assert_error(client.delete("/assets/999999"), 404, "not_found")


def test_absurdly_large_ids_are_a_404_not_a_crash(region, api):
    assert_error(api("centre_admin").get("/assets/" + "9" * 40), 404)


def test_unknown_job_and_malformed_job_id_are_404(region, api):
    assert_error(api("centre_admin").get("/jobs/6f1c1a4e-8a53-4a2e-9a51-0d4b8cf2a111"), 404)
    assert_error(api("centre_admin").get("/jobs/not-a-uuid"), 404)


def test_unknown_paths_under_the_api_answer_in_the_api_format(region, api):
    assert_error(api("director").get("/no/such/thing"), 404, "not_found")
    assert_error(api("director").get("/"), 404, "not_found")


def test_wrong_method_is_a_405_in_the_error_format(region, api):
    response = api("director").request("put", f"/assets/{region.a.assets.first().pk}")
    error = assert_error(response, 405, "method_not_allowed")
    assert error["message"]
    assert "GET" in response["Allow"]


def test_duplicate_asset_is_a_409_conflict(region, api):
    response = api("director").post(
        f"/structures/{region.a.pk}/assets", {"kind": "domain", "value": "ALPHA.test"}
    )
    assert_error(response, 409, "conflict")
    assert Asset.objects.filter(structure=region.a, value="alpha.test").count() == 1


def test_forbidden_action_is_a_403_with_the_services_message(region, api):
    response = api("it_provider").post(
        f"/structures/{region.a.pk}/contacts", {"role": "dpo", "name": "Someone"}
    )
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "Vous n'avez pas le droit de faire cette action."


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_is_a_413(region, api):
    body = {"kind": "application", "value": "x", "label": "y" * 5000}
    assert_error(api("director").post(f"/structures/{region.a.pk}/assets", body), 413)


def test_unexpected_exceptions_become_a_500_in_the_error_format(region):
    """The last-resort handler (logged server-side, never a traceback to the client)."""
    request = RequestFactory().get("/api/v1/anything")
    response = ninja_api.on_exception(request, RuntimeError("boom"))
    assert response.status_code == 500
    body = json.loads(response.content)
    assert body["error"]["code"] == "server_error"
    assert "boom" not in response.content.decode()


def test_validation_messages_are_in_french(region, api):
    response = api("director").post(
        f"/structures/{region.a.pk}/assets", {"kind": "domain", "value": "x" * 300}
    )
    error = assert_error(response, 422)
    assert error["details"]["value"] == ["Texte trop long : 255 caractères au plus."]
