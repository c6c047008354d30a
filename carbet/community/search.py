"""Full-text search of the knowledge base: SQLite FTS5 on the embedded default, PostgreSQL's
full-text search at scale.

What people type is never handed to a search engine as syntax. ``terms`` keeps only the words
(letters and digits) of the query, lower-cased, without French stop words, at most
``MAX_TERMS`` of them; each backend then writes its own query from those words:

* **SQLite**: a virtual table ``community_article_fts`` (FTS5, tokenizer ``unicode61
  remove_diacritics 2``: "rancon" finds "rançon") holds a copy of each article's title,
  summary, category, tags and text, kept in step by triggers on ``community_article`` (an
  insert, an update, a delete: whichever code path writes the row). Each word becomes a quoted
  prefix phrase (``"sauvegard"*``) after a light French plural/ending cut (``stem``), so that
  "sauvegarde" finds "sauvegardes" and the reverse; FTS operators, ``NEAR``, ``*``, quotes and
  parentheses typed by someone are just dropped. Ranked by BM25 (title weighs most).
* **PostgreSQL**: a GIN expression index on the weighted ``tsvector`` of the same columns
  (``pg_vector``), with the ``french`` configuration (Snowball stemmer). When the ``unaccent``
  extension can be installed, the migration creates ``carbet_french`` (a copy of ``french``
  whose words go through ``unaccent`` before the stemmer) and the index uses it, so accents are
  ignored there too; otherwise accents count (the migration says so). Each word becomes a
  prefix lexeme (``'sauvegardes':*``), ranked with ``ts_rank``.

The index objects (``sqlite_install``, ``pg_install``) are created by the migration
``0002_knowledge_search``; a later migration that rebuilds ``community_article`` on SQLite (an
``ALTER`` Django emulates by copying the table) drops the triggers with the old table and must
call ``sqlite_install`` again. The snippets shown under each result are built here, in Python,
from the article's plain text, so both backends highlight the same way and every character of
the text is escaped (``highlight``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

MAX_QUERY = 500  # characters of the query read at all
MAX_TERMS = 12
MAX_TERM_LENGTH = 40
ARTICLE_TABLE = "community_article"
FTS_TABLE = "community_article_fts"
FTS_COLUMNS = ("title", "summary", "category", "tags", "body")
# bm25 weights, column by column (FTS_COLUMNS order): the title weighs most.
FTS_WEIGHTS = (10.0, 4.0, 2.0, 4.0, 1.0)
PG_CONFIG = "french"
PG_UNACCENT_CONFIG = "carbet_french"
PG_INDEX = "community_article_search"

_WORD = re.compile(r"[^\W_]+")
# Removed from the end of a word (longest first) when at least 4 letters remain, so that a word
# and its plural or feminine forms share one prefix.
_ENDINGS = ("ées", "és", "ée", "es", "er", "ez", "e", "s", "x")
STOP_WORDS = frozenset(
    "a à au aux avec ce ces dans de des du elle en est et il je la le les leur lui ma mais me "
    "mes mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son sur ta te tes "
    "toi ton tu un une vos votre vous".split()
)


# --- The words of a query ---------------------------------------------------------------------


def terms(query: str) -> list[str]:
    """The words of ``query`` to search for: letters and digits only, lower-cased, without
    French stop words and one-letter words, each once, at most ``MAX_TERMS``."""
    found: list[str] = []
    for word in _WORD.findall((query or "")[:MAX_QUERY]):
        term = word.casefold()[:MAX_TERM_LENGTH]
        if (len(term) < 2 and not term.isdigit()) or term in STOP_WORDS or term in found:
            continue
        found.append(term)
        if len(found) == MAX_TERMS:
            break
    return found


def stem(term: str) -> str:
    """``term`` without a plural or common ending ("sauvegardes" and "sauvegarder" →
    "sauvegard"), kept whole when too short to cut."""
    if not term.isalpha():
        return term
    for ending in _ENDINGS:
        if term.endswith(ending) and len(term) - len(ending) >= 4:
            return term[: -len(ending)]
    return term


def fts5_query(words: Sequence[str]) -> str:
    """The FTS5 MATCH expression: every word, as a quoted prefix phrase, all required."""
    # A word holds letters and digits only (``terms``): no quote can close the phrase early.
    return " ".join(f'"{stem(word)}"*' for word in words if _WORD.fullmatch(word))


def pg_tsquery(words: Sequence[str]) -> str:
    """The ``to_tsquery`` text: every word, quoted, as a prefix lexeme, all required."""
    return " & ".join(f"'{word}':*" for word in words if _WORD.fullmatch(word))


# --- Index objects (created by the migration) ----------------------------------------------


def _sqlite_row(prefix: str) -> str:
    """The indexed values of a row of ``community_article`` named ``prefix`` (tags: the words
    of the JSON list, not its escaped text)."""
    tags = (
        f"CASE WHEN json_valid({prefix}.tags) THEN (SELECT group_concat(value, ' ') "  # noqa: S608
        f"FROM json_each({prefix}.tags)) ELSE {prefix}.tags END"
    )
    return ", ".join(tags if c == "tags" else f"{prefix}.{c}" for c in FTS_COLUMNS)


def sqlite_statements() -> list[str]:
    columns = ", ".join(FTS_COLUMNS)
    # Every name below is a constant of this module: no outside value reaches these statements.
    row = _sqlite_row("new")
    insert = f"INSERT INTO {FTS_TABLE} (rowid, {columns}) VALUES (new.id, {row});"  # noqa: S608
    delete = f"DELETE FROM {FTS_TABLE} WHERE rowid = old.id;"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({columns}, "
        "tokenize = 'unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {ARTICLE_TABLE} "
        f"BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE ON {ARTICLE_TABLE} "
        f"BEGIN {delete} {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {ARTICLE_TABLE} "
        f"BEGIN {delete} END",
        f"DELETE FROM {FTS_TABLE}",  # noqa: S608
        f"INSERT INTO {FTS_TABLE} (rowid, {columns}) "  # noqa: S608
        f"SELECT a.id, {_sqlite_row('a')} FROM {ARTICLE_TABLE} AS a",
    ]


def sqlite_install(schema_editor: Any) -> None:
    """Create (or re-create) the FTS5 table and its triggers, and fill it from the articles."""
    for statement in sqlite_statements():
        schema_editor.execute(statement)


def sqlite_uninstall(schema_editor: Any) -> None:
    for name in ("insert", "update", "delete"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def pg_vector(config: str) -> Any:
    """The weighted document of an article. The GIN index of the migration is built on this
    very expression: change it and the index must be rebuilt by a new migration."""
    return (
        SearchVector("title", weight="A", config=config)
        + SearchVector("summary", Cast("tags", TextField()), weight="B", config=config)
        + SearchVector("category", weight="C", config=config)
        + SearchVector("body", weight="D", config=config)
    )


def pg_try_unaccent(schema_editor: Any) -> bool:
    """Install ``unaccent`` and the ``carbet_french`` configuration if the database allows it."""
    db = schema_editor.connection
    try:
        with transaction.atomic(using=db.alias), db.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            cursor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_UNACCENT_CONFIG}")
            cursor.execute(f"CREATE TEXT SEARCH CONFIGURATION {PG_UNACCENT_CONFIG} (COPY = french)")
            cursor.execute(
                f"ALTER TEXT SEARCH CONFIGURATION {PG_UNACCENT_CONFIG} ALTER MAPPING FOR "
                "hword, hword_part, word WITH unaccent, french_stem"
            )
    except DatabaseError as exc:
        logger.warning(
            "knowledge search: the unaccent extension is not available (%s); accents will "
            "count in PostgreSQL searches",
            exc,
        )
        return False
    return True


def pg_install(schema_editor: Any, model: Any) -> None:
    """The GIN index on ``pg_vector`` (with ``carbet_french`` when unaccent could be set up)."""
    from django.contrib.postgres.indexes import GinIndex

    config = PG_UNACCENT_CONFIG if pg_try_unaccent(schema_editor) else PG_CONFIG
    schema_editor.add_index(model, GinIndex(pg_vector(config), name=PG_INDEX))


def pg_uninstall(schema_editor: Any) -> None:
    schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_UNACCENT_CONFIG}")


_pg_configs: dict[str, str] = {}


def pg_config() -> str:
    """The configuration the index was built with (``carbet_french`` or ``french``)."""
    key = str(connection.settings_dict.get("NAME"))
    if key not in _pg_configs:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_ts_config WHERE cfgname = %s", [PG_UNACCENT_CONFIG])
            _pg_configs[key] = PG_UNACCENT_CONFIG if cursor.fetchone() else PG_CONFIG
    return _pg_configs[key]


def accents_ignored() -> bool:
    """Whether "rancon" finds "rançon" on this database."""
    return connection.vendor != "postgresql" or pg_config() == PG_UNACCENT_CONFIG


# --- Searching ----------------------------------------------------------------------------


def ranked(queryset: QuerySet, query: str) -> QuerySet:
    """The rows of ``queryset`` (articles) matching ``query``, best first, each annotated
    with ``rank`` (higher is better). Nothing for a query without words."""
    words = terms(query)
    if not words:
        return queryset.none()
    if connection.vendor == "sqlite":
        return _sqlite_ranked(queryset, words)
    if connection.vendor == "postgresql":
        return _pg_ranked(queryset, words)
    return _plain_ranked(queryset, words)


_SQLITE_MATCHING = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
_SQLITE_SCORE = (
    f"SELECT -bm25({FTS_TABLE}, %(weights)s) FROM {FTS_TABLE} "  # noqa: S608
    f'WHERE {FTS_TABLE} MATCH %%s AND rowid = "{ARTICLE_TABLE}"."id"'
)


def _sqlite_ranked(queryset: QuerySet, words: list[str]) -> QuerySet:
    expression = fts5_query(words)
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    # Table names and weights are constants; the MATCH expression is a query parameter.
    matching = RawSQL(_SQLITE_MATCHING, [expression])  # noqa: S611
    # bm25 is lower for better matches: its opposite is the rank.
    score = RawSQL(_SQLITE_SCORE % {"weights": weights}, [expression])  # noqa: S611
    return queryset.filter(pk__in=matching).annotate(rank=score).order_by("-rank", "pk")


def _pg_ranked(queryset: QuerySet, words: list[str]) -> QuerySet:
    config = pg_config()
    vector = pg_vector(config)
    search = SearchQuery(pg_tsquery(words), search_type="raw", config=config)
    return (
        queryset.annotate(document=vector, rank=SearchRank(vector, search))
        .filter(document=search)
        .order_by("-rank", "pk")
    )


def _plain_ranked(queryset: QuerySet, words: list[str]) -> QuerySet:
    """Any other database: every word somewhere in the title, summary or text."""
    for word in words:
        stemmed = stem(word)
        queryset = queryset.filter(
            Q(title__icontains=stemmed) | Q(summary__icontains=stemmed) | Q(body__icontains=stemmed)
        )
    return queryset.annotate(rank=Value(1.0)).order_by("title", "pk")


# --- Snippets -------------------------------------------------------------------------------


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` lower-cased without diacritics, and for each of its characters the index of the
    character of ``text`` it comes from."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        bare = "".join(
            c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
        )
        for piece in bare.casefold():
            folded.append(piece)
            origin.append(index)
    return "".join(folded), origin


def _pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    stems = sorted({fold(stem(word))[0] for word in words if word}, key=len, reverse=True)
    stems = [s for s in stems if s]
    if not stems:
        return None
    return re.compile(r"(?<![^\W_])(?:" + "|".join(re.escape(s) for s in stems) + r")[^\W_]*")


def highlight(text: str, words: Sequence[str], width: int = 240) -> SafeString:
    """An escaped extract of ``text`` around the first matched word, each matched word in
    ``<mark>``; the start of ``text`` when no word matches."""
    text = " ".join((text or "").split())
    folded, origin = fold(text)
    pattern = _pattern(words)
    spans: list[tuple[int, int]] = []
    if pattern is not None:
        for match in pattern.finditer(folded):
            if match.end() > match.start():
                spans.append((origin[match.start()], origin[match.end() - 1] + 1))
    start = 0
    if spans and spans[0][0] > width // 3:
        start = text.rfind(" ", 0, spans[0][0] - width // 4) + 1
    end = min(len(text), start + width)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    pieces = ["… "] if start > 0 else []
    cursor = start
    for left, right in spans:
        if right <= cursor or left >= end:
            continue
        left, right = max(left, cursor), min(right, end)
        pieces += [escape(text[cursor:left]), "<mark>", escape(text[left:right]), "</mark>"]
        cursor = right
    pieces.append(escape(text[cursor:end]))
    if end < len(text):
        pieces.append(" …")
    # Safe: every piece of the text went through escape(); only <mark> tags are added.
    return mark_safe("".join(str(p) for p in pieces))  # noqa: S308
