"""Calling any API route with a body its schema accepts, for the walks over every route.

The walks must reach the route's object lookup: a body refused by validation (422) would prove
nothing about tenancy. Bodies are therefore built from the OpenAPI schema of each operation, so
routes added later get valid bodies without anyone writing them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from carbet.api.urls import api as ninja_api

PDF = b"%PDF-1.4\n%walk\n"


def openapi() -> dict[str, Any]:
    return ninja_api.get_openapi_schema()


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            merged = {k: v for k, v in schema.items() if k != key}
            return {**_resolve(options[0], components), **merged}
    return schema


def sample_value(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A small value that the schema accepts (required properties only for objects)."""
    schema = _resolve(schema, components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: sample_value(schema["properties"][name], components)
            for name in schema.get("required", [])
        }
    if kind == "array":
        count = schema.get("minItems", 0)
        return [sample_value(schema["items"], components) for _i in range(count)]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") == "date":
            return dt.date.today().isoformat()
        if schema.get("format") == "date-time":
            return dt.datetime.now(dt.UTC).isoformat()
        if schema.get("format") == "binary":
            return SimpleUploadedFile("walk.pdf", PDF, content_type="application/pdf")
        return "x" * max(1, schema.get("minLength", 1))
    raise AssertionError(f"the walk cannot build a value for schema {schema!r}")


def call(client, method: str, template: str, path: str, schema: dict[str, Any] | None = None):
    """Call ``path`` (a filled ``template``) with a body that the route's schema accepts."""
    schema = schema or openapi()
    operation = schema["paths"][template][method.lower()]
    components = schema.get("components", {}).get("schemas", {})
    content = (operation.get("requestBody") or {}).get("content", {})
    if "application/json" in content:
        body = sample_value(content["application/json"]["schema"], components)
        return client._send(method.lower(), path, body)
    if "multipart/form-data" in content:
        form = sample_value(content["multipart/form-data"]["schema"], components)
        return client.client.post(client._url(path), data=form, headers=client.headers)
    if method == "GET":
        return client.get(path)
    return client.request(method, path)


def path_parameters(template: str) -> list[tuple[str, str]]:
    """``(segment before it, name)`` of every parameter of a path template."""
    found = []
    for match in re.finditer(r"\{(\w+)\}", template):
        segment = template[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        found.append((segment, match.group(1)))
    return found


def fill(template: str, values: dict[tuple[str, str], str]) -> str:
    def replace(match: re.Match) -> str:
        segment = template[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        return values[(segment, match.group(1))]

    return re.sub(r"\{(\w+)\}", replace, template)
