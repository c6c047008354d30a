"""docs/directory-rules.md is generated from the registry and must stay in sync."""

from carbet.engines.directory.rules import all_rules
from carbet.engines.directory.rules.catalogue import DOC_PATH, render_markdown


def test_catalogue_is_in_sync_with_the_registry():
    expected = render_markdown()
    assert DOC_PATH.read_text(encoding="utf-8") == expected, (
        "run: python -m carbet.engines.directory.rules.catalogue --write"
    )
    for rule_id in all_rules():
        assert f"### `{rule_id}`" in expected
