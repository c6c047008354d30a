"""Feed imports: the four formats, auto-detection, idempotence, all-or-nothing on bad files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.vulns import importer as feeds_import
from carbet.engines.exposure.vulns.feeds import FeedError, FeedStore
from carbet.engines.exposure.vulns.importer import detect_kind, import_file

DATA = Path(__file__).parent / "data"


def table_count(store: FeedStore, table: str) -> int:
    return store.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def store(tmp_path):
    store = FeedStore(tmp_path / "feeds.sqlite")
    yield store
    store.close()


def test_detects_each_kind():
    assert {
        f: detect_kind(DATA / f) for f in ("nvd.json", "kev.json", "epss.csv", "certfr.json")
    } == {
        "nvd.json": "nvd",
        "kev.json": "kev",
        "epss.csv": "epss",
        "certfr.json": "certfr",
    }


def test_imports_all_four_and_reimport_is_idempotent(store):
    results = [
        import_file(store, DATA / f) for f in ("nvd.json", "kev.json", "epss.csv", "certfr.json")
    ]
    assert [(r.kind, r.records) for r in results] == [
        ("nvd", 8),
        ("kev", 2),
        ("epss", 6),
        ("certfr", 2),
    ]
    assert results[0].source_date == "2025-03-01T08:00:00.000"
    assert results[2].source_date == "2025-03-16"
    before = {
        t: table_count(store, t)
        for t in ("cve", "cpe_match", "kev", "epss", "certfr", "certfr_cve")
    }
    for name in ("nvd.json", "kev.json", "epss.csv", "certfr.json"):
        import_file(store, DATA / name)
    after = {t: table_count(store, t) for t in before}
    assert before == after
    assert store.counts() == {"nvd": 8, "kev": 2, "epss": 6, "certfr": 2}
    assert set(store.last_imports()) == {"nvd", "kev", "epss", "certfr"}


def test_nvd_details(store):
    import_file(store, DATA / "nvd.json")
    cvss = dict(store.connection.execute("SELECT id, cvss FROM cve"))
    assert cvss["CVE-2023-38408"] == 9.8  # V3.1 preferred over V2
    assert cvss["CVE-2025-0001"] == 5.3  # V4.0 only
    assert cvss["CVE-2025-0002"] is None
    assert cvss["CVE-2024-21762"] == 9.8  # the Primary score, not the Secondary one
    rows = store.connection.execute(
        "SELECT vendor, product, version FROM cpe_match WHERE cve_id = 'CVE-2024-21887'"
    ).fetchall()
    assert ("ivanti", "connect_secure", "9.1r14") in rows
    cisco = store.connection.execute(
        "SELECT version FROM cpe_match WHERE cve_id = 'CVE-2017-6663'"
    ).fetchall()
    assert ("15.2(4)m3",) in cisco
    # vulnerable=false entries (a fixed version, hardware in an AND) are not kept
    products = {r[0] for r in store.connection.execute("SELECT product FROM cpe_match")}
    assert "hci" not in products


def test_gzipped_nvd_and_tiny_chunks(store, tmp_path, monkeypatch):
    packed = tmp_path / "nvdcve-2.0-2025.json.gz"
    packed.write_bytes(gzip.compress((DATA / "nvd.json").read_bytes()))
    monkeypatch.setattr(feeds_import, "CHUNK", 7)  # every element crosses chunk boundaries
    result = import_file(store, packed)
    assert (result.kind, result.records) == ("nvd", 8)
    assert table_count(store, "cpe_match") == 14


def test_streams_a_large_nvd_file(store, tmp_path):
    template = json.loads((DATA / "nvd.json").read_text())["vulnerabilities"][0]
    path = tmp_path / "big.json"
    with path.open("w") as out:
        out.write('{"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [')
        for n in range(5000):
            template["cve"]["id"] = f"CVE-2020-{10000 + n}"
            out.write(("," if n else "") + json.dumps(template))
        out.write('], "timestamp": "2025-01-01T00:00:00"}')
    result = import_file(store, path)
    assert result.records == 5000 and result.source_date == "2025-01-01T00:00:00"


BAD_FILES = {
    "truncated.json": lambda: (DATA / "nvd.json").read_text()[:5000],
    "badcve.json": lambda: json.dumps(
        {"format": "NVD_CVE", "vulnerabilities": [{"cve": {"id": "nope"}}]}
    ),
    "badcpe.json": lambda: json.dumps(
        {
            "format": "NVD_CVE",
            "vulnerabilities": [
                {
                    "cve": {
                        "id": "CVE-2020-1234",
                        "configurations": [
                            {
                                "nodes": [
                                    {"cpeMatch": [{"vulnerable": True, "criteria": "not-a-cpe"}]}
                                ]
                            }
                        ],
                    }
                }
            ],
        }
    ),
    "kev-bad.json": lambda: json.dumps({"catalogVersion": "1", "vulnerabilities": [{"cveID": 3}]}),
    "epss-bad.csv": lambda: "cve,epss,percentile\nCVE-2024-0001,0.5,0.9\nCVE-2024-0002,lots,0.1\n",
    "epss-range.csv": lambda: "cve,epss,percentile\nCVE-2024-0001,1.5,0.9\n",
    "certfr-bad.json": lambda: json.dumps({"alerts": [{"id": "CERTFR-1", "cves": ["CVE-x"]}]}),
    "empty.json": lambda: "",
    "other.json": lambda: json.dumps({"hello": "world"}),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_refused_whole_and_changes_nothing(store, tmp_path, name):
    import_file(store, DATA / "nvd.json")
    import_file(store, DATA / "epss.csv")
    before = {
        t: table_count(store, t) for t in ("cve", "cpe_match", "kev", "epss", "certfr", "imports")
    }
    path = tmp_path / name
    path.write_text(BAD_FILES[name]())
    kind = {"truncated.json": "nvd", "badcve.json": "nvd", "badcpe.json": "nvd"}.get(name)
    with pytest.raises(FeedError) as error:
        import_file(store, path, kind)
    assert name in str(error.value)
    assert before == {t: table_count(store, t) for t in before}


def test_missing_file_and_unknown_kind(store, tmp_path):
    with pytest.raises(FeedError, match="no such file"):
        import_file(store, tmp_path / "nope.json")
    with pytest.raises(FeedError, match="unknown feed kind"):
        import_file(store, DATA / "nvd.json", "osv")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(["nvd", "kev", "epss", "certfr", None]),
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "format",
                            "vulnerabilities",
                            "cve",
                            "id",
                            "cveID",
                            "alerts",
                            "metrics",
                            "configurations",
                            "nodes",
                            "cpeMatch",
                            "criteria",
                            "reference",
                            "cves",
                            "x",
                        ]
                    ),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    ),
)
def test_feed_parsers_never_crash(tmp_path_factory, kind, content):
    directory = tmp_path_factory.mktemp("fuzz")
    path = directory / "feed.dat"
    path.write_bytes(content)
    store = FeedStore(directory / "feeds.sqlite")
    try:
        import_file(store, path, kind)
    except FeedError:
        pass
    finally:
        store.close()
