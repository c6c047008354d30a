"""Fill carbet/locale/en's catalogue from JSON files of French → English (see scripts/i18n-sync)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polib

PO_PATH = Path(__file__).resolve().parent.parent / "carbet/locale/en/LC_MESSAGES/django.po"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="report untranslated msgids under this path")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    table: dict[str, str | list[str]] = {}
    for path in args.files:
        table.update(json.loads(path.read_text(encoding="utf-8")))
    po = polib.pofile(str(PO_PATH), wrapwidth=79)
    filled = 0
    missing = []
    for entry in po:
        if entry.obsolete:
            continue
        given = table.get(entry.msgid)
        if given is not None:
            if entry.msgid_plural:
                forms = given if isinstance(given, list) else [given, given]
                entry.msgstr_plural = {0: forms[0], 1: forms[-1]}
            else:
                entry.msgstr = given if isinstance(given, str) else given[0]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            entry.previous_msgid = None
            entry.previous_msgid_plural = None
            entry.previous_msgctxt = None
            filled += 1
        translated = (
            all(v.strip() for v in entry.msgstr_plural.values()) and len(entry.msgstr_plural) == 2
            if entry.msgid_plural
            else bool(entry.msgstr.strip())
        )
        if not translated or "fuzzy" in entry.flags:
            where = [occ for occ, _line in entry.occurrences]
            if not args.only or any(w.startswith(args.only) for w in where):
                missing.append((entry.msgid, where[:1]))
    po.save()
    print(f"filled {filled} entries; {len(missing)} still untranslated or fuzzy")
    for msgid, where in missing:
        print(f"  {msgid!r}  {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
