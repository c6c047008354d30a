"""Cross-source correlation: what counts as "the same weakness on the same asset", and that the
lists, dashboards and finding page treat a correlated group as one weakness."""

from __future__ import annotations

import datetime as dt
import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.core.models import Asset
from carbet.findings import correlation
from carbet.findings.choices import Status
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Finding
from carbet.findings.posture import selectors as posture_selectors
from carbet.findings.services import io as findings_io
from tests.conftest import proven

# --- The rule, without a database ------------------------------------------------------------

EXPOSURE_DICOM = {
    "rule": "medical.dicom.exposed",
    "title": "Serveur DICOM joignable depuis internet — pacs.alpha.test:104",
    "evidence": {"cible": "pacs.alpha.test", "port": 104},
}
NESSUS_DICOM = {
    "title": "DICOM Server Detection",
    "evidence": {"port": 104},
    "asset_value": "PACS.alpha.test.",
}


def test_an_imported_nessus_row_and_the_exposure_scan_of_the_same_dicom_port_are_the_same():
    scan = correlation.weakness_of(**EXPOSURE_DICOM)
    imported = correlation.weakness_of(**NESSUS_DICOM)
    assert scan == imported == correlation.Weakness("pacs.alpha.test", 104, "service:dicom")
    assert correlation.correlation_key(7, **EXPOSURE_DICOM) == correlation.correlation_key(
        7, **NESSUS_DICOM
    )


def test_the_same_cve_on_another_host_is_not_the_same():
    one = correlation.correlation_key(1, cve="CVE-2024-3400", evidence={"host": "10.0.0.1"})
    other = correlation.correlation_key(1, cve="CVE-2024-3400", evidence={"host": "10.0.0.2"})
    assert one and other and one != other
    # ...but the same CVE on the same host in another spelling is
    assert one == correlation.correlation_key(1, cve="cve_2024_3400", asset_value="10.0.0.1")


def test_the_same_port_with_another_service_is_not_the_same():
    dicom = correlation.correlation_key(1, **NESSUS_DICOM)
    web = correlation.correlation_key(
        1,
        title="HTTP Server Detection",
        evidence={"port": 104, "service": "www"},
        asset_value="pacs.alpha.test",
    )
    hl7 = correlation.correlation_key(
        1, rule="medical.hl7.exposed", evidence={"cible": "pacs.alpha.test", "port": 104}
    )
    assert len({dicom, web, hl7}) == 3


def test_a_flaw_of_a_service_is_not_the_service_being_exposed():
    exposed = correlation.correlation_key(1, **EXPOSURE_DICOM)
    any_ae = correlation.correlation_key(
        1,
        rule="medical.dicom.any_ae_accepted",
        title="Le serveur DICOM accepte n'importe quel appelant (service exposé)",
        evidence={"cible": "pacs.alpha.test", "port": 104},
    )
    assert any_ae and any_ae != exposed


def test_same_structure_only_and_nothing_to_compare_gives_no_key():
    assert correlation.correlation_key(1, **EXPOSURE_DICOM) != correlation.correlation_key(
        2, **EXPOSURE_DICOM
    )
    assert correlation.correlation_key(1, title="Quelque chose ne va pas") == ""
    assert correlation.correlation_key(1, rule="tls.protocol.tls10") == ""  # no host
    # a port on one side only is not the same place
    assert correlation.correlation_key(
        1, cve="CVE-2023-1234", asset_value="a.test"
    ) != correlation.correlation_key(1, cve="CVE-2023-1234", evidence={"host": "a.test:443"})


def test_families_recognised_in_tool_titles():
    cases = {
        ("TLS Version 1.0 Protocol Detection", ""): "tls-protocol:tls1.0",
        ("SSL Version 2 and 3 Protocol Detection", ""): "tls-protocol:ssl2",
        ("Microsoft Windows Remote Desktop Protocol Server Detection", ""): "service:rdp",
        ("Missing DMARC record", ""): "mail:dmarc.missing",
        ("Service detection", "dicom"): "service:dicom",
    }
    for (title, service), expected in cases.items():
        evidence = {"service": service} if service else {}
        assert correlation.weakness_class(title=title, evidence=evidence) == expected, title
    assert correlation.class_from_rule("tls.protocol.tls10") == "tls-protocol:tls1.0"
    assert correlation.class_from_rule("mail.dmarc.missing") == "mail:dmarc.missing"
    assert correlation.class_from_rule("port.rdp") == "service:rdp"
    assert correlation.class_from_rule("port.rdp.no_nla") == "check:port.rdp.no_nla"


# --- The normalisers, on odd spellings (hypothesis) ----------------------------------------

labels = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("abcdefxyz"),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", max_size=10),
)
hostnames = st.lists(labels, min_size=2, max_size=4).map(".".join)


def _case(text: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if f else c for c, f in zip(text, flips + [False] * len(text), strict=False)
    )


@given(hostnames, st.lists(st.booleans(), max_size=40), st.booleans(), st.integers(1, 65535))
def test_a_host_name_in_any_case_with_a_trailing_dot_scheme_or_port_is_one_host(
    host, flips, dot, port
):
    spelled = _case(host, flips) + ("." if dot else "")
    assert correlation.normalise_host(spelled) == host
    assert correlation.normalise_host(f"https://{spelled}:{port}/login?x=1") == host
    assert correlation.split_host_port(f"{spelled}:{port}") == (spelled, port)
    assert correlation.normalise_host(correlation.normalise_host(spelled)) == host


@given(st.ip_addresses())
def test_an_ip_address_in_any_spelling_is_one_host(address):
    # an IPv4-mapped IPv6 address is its IPv4 address
    canonical = str(getattr(address, "ipv4_mapped", None) or address)
    assert correlation.normalise_host(canonical.upper()) == canonical
    if isinstance(address, ipaddress.IPv6Address):
        assert correlation.normalise_host(address.exploded) == canonical
        assert correlation.normalise_host(f"[{address.exploded}]:443") == canonical
    else:
        assert correlation.normalise_host(f"::ffff:{address}") == canonical


@given(st.integers(-5, 70000), st.sampled_from(["{}", " {} ", "{}/tcp", "{}/UDP", "{} / tcp"]))
def test_ports_in_odd_spellings(number, spelling):
    expected = number if 0 < number <= 65535 else None
    assert correlation.normalise_port(spelling.format(number)) == expected
    assert correlation.normalise_port(number) == expected
    assert correlation.normalise_port(float(number)) == expected


@given(
    st.integers(1999, 2030),
    st.integers(1, 9_999_999),
    st.sampled_from(["-", "_", " ", "‑", "–", ""]),
    st.booleans(),
)
def test_cve_ids_in_odd_spellings(year, number, separator, lower):
    digits = str(number).rjust(4, "0")
    text = f"CVE{separator}{year}{separator}{digits}"
    found = correlation.normalise_cve(text.lower() if lower else text)
    if separator == "" and len(digits) > 4:
        # "CVE2024123456" is ambiguous; whatever is read, it is a well-formed id
        assert found.startswith("CVE-")
    else:
        assert found == f"CVE-{year}-{digits}"


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(
            st.text(max_size=30), st.integers(), st.none(), st.booleans(), st.floats(allow_nan=True)
        ),
    ),
    st.text(max_size=60),
    st.text(max_size=30),
    st.text(max_size=30),
)
def test_the_key_never_raises_on_whatever_a_source_sends(evidence, title, rule, cve):
    key = correlation.correlation_key(
        1, evidence=evidence, title=title, rule=rule, cve=cve, asset_value="x.test"
    )
    assert key == "" or len(key) == correlation.KEY_LENGTH


# --- Stored, listed, counted once ------------------------------------------------------------


def _exposure_dicom(structure, asset, host: str = "pacs.alpha.test") -> FindingInput:
    return FindingInput(
        title=f"Serveur DICOM joignable depuis internet — {host}:104",
        severity="high",
        fingerprint=f"exposure-dicom-{host}",
        rule="medical.dicom.exposed",
        asset_id=asset.pk,
        evidence={"cible": host, "port": 104},
        internet_exposed=True,
    )


NESSUS_CSV = (
    "Plugin ID;CVE;CVSS;Risk;Host;Protocol;Port;Name;Solution\n"
    "58400;;;High;pacs.alpha.test;tcp;104;DICOM Server Detection;Filter access to port 104.\n"
)


def _pacs(region):
    return Asset.objects.create(
        structure=region.a, kind="hostname", value="pacs.alpha.test", **proven()
    )


def test_scan_and_import_of_the_same_dicom_port_are_one_weakness_everywhere(region):
    pacs = _pacs(region)
    ingest(region.a, "exposure", [_exposure_dicom(region.a, pacs)], complete=True, label="scan 1")
    outcome = findings_io.import_findings(
        region.users["centre_analyst"], region.a, NESSUS_CSV.encode(), filename="nessus.csv"
    )
    assert outcome.ok, outcome.errors
    scan, imported = Finding.objects.filter(structure=region.a).order_by("id")
    assert imported.source == "import" and imported.evidence["port"] == 104
    assert scan.correlation_key and scan.correlation_key == imported.correlation_key

    # counted once by the dashboards (and so by the nightly snapshots)...
    counts, cells = posture_selectors.live_counts(
        region.users["centre_admin"], today=dt.date.today(), structure_ids=[region.a.pk]
    )
    assert counts[region.a.pk].open_high == 1
    assert sum(cell.open for cell in cells[region.a.pk].values()) == 1
    # ...listed once, naming the other source...
    client = region.client("director")
    page = client.get("/vulnerabilites/").content.decode()
    assert page.count("DICOM") == 1 + page.count("aussi signalé par")  # the row, no second row
    assert "aussi signalé par" in page and "1 vulnérabilité" in page
    # ...each source's own list still shows its own finding
    assert "DICOM Server Detection" in client.get("/vulnerabilites/?source=import").content.decode()
    # ...and each page names the other ("aussi signalé par"), the primary being the scan's
    detail = client.get(f"/vulnerabilites/{imported.pk}/").content.decode()
    assert "Aussi signalé par" in detail and f"n° {scan.pk}" in detail
    assert "fiche principale" in detail

    # A rescan that no longer sees it closes only its own part; the import still reports it.
    ingest(region.a, "exposure", [], complete=True, label="scan 2")
    scan.refresh_from_db()
    imported.refresh_from_db()
    assert scan.status == Status.VERIFIED_CLOSED and imported.status == Status.NEW
    counts, _cells = posture_selectors.live_counts(
        region.users["centre_admin"], today=dt.date.today(), structure_ids=[region.a.pk]
    )
    assert counts[region.a.pk].open_high == 1


def test_another_host_is_another_weakness_and_counts_apart(region):
    pacs = _pacs(region)
    other = Asset.objects.create(
        structure=region.a, kind="hostname", value="pacs2.alpha.test", **proven()
    )
    ingest(
        region.a,
        "exposure",
        [_exposure_dicom(region.a, pacs), _exposure_dicom(region.a, other, "pacs2.alpha.test")],
        complete=False,
    )
    keys = set(Finding.objects.filter(structure=region.a).values_list("correlation_key", flat=True))
    assert len(keys) == 2
    counts, _cells = posture_selectors.live_counts(
        region.users["centre_admin"], today=dt.date.today(), structure_ids=[region.a.pk]
    )
    assert counts[region.a.pk].open_high == 2


def test_groups_never_cross_structures(region):
    pacs_a = _pacs(region)
    pacs_b = Asset.objects.create(
        structure=region.b, kind="hostname", value="pacs.alpha.test", **proven()
    )
    ingest(region.a, "exposure", [_exposure_dicom(region.a, pacs_a)], complete=False)
    ingest(region.b, "exposure", [_exposure_dicom(region.b, pacs_b)], complete=False)
    ingest(
        region.b,
        "manual",
        [
            FindingInput(
                title="DICOM exposé",
                severity="high",
                rule="medical.dicom.exposed",
                asset_id=pacs_b.pk,
                evidence={"port": 104},
            )
        ],
        complete=False,
    )
    finding_a = Finding.objects.get(structure=region.a)
    page = region.client("director").get(f"/vulnerabilites/{finding_a.pk}/").content.decode()
    assert "Aussi signalé par" not in page
    b_keys = list(
        Finding.objects.filter(structure=region.b).values_list("correlation_key", flat=True)
    )
    assert len(set(b_keys)) == 1 and finding_a.correlation_key not in b_keys


def test_findings_written_before_correlation_get_their_key_when_seen_again(region):
    pacs = _pacs(region)
    ingest(region.a, "exposure", [_exposure_dicom(region.a, pacs)], complete=False)
    Finding.objects.update(correlation_key=None)
    report = ingest(region.a, "exposure", [_exposure_dicom(region.a, pacs)], complete=False)
    assert report.unchanged == 1 and report.updated == 0
    assert Finding.objects.get(structure=region.a).correlation_key


# --- The director's score card and its chart read the same figures ---------------------------


def test_the_score_card_and_its_chart_tell_one_story(region):
    """The card showed 84 ("30 days ago: 94") while its chart ended at 92: the chart now ends
    with the card's live score, and "30 days ago" is a point of the same series."""
    from carbet.findings.models import PostureSnapshot
    from carbet.findings.posture import structure as posture_structure

    today = dt.date(2026, 3, 31)  # the clock is a parameter
    for days, score in ((45, 70), (31, 94), (30, 90), (1, 92)):
        PostureSnapshot.objects.create(
            structure=region.a, day=today - dt.timedelta(days=days), scores={"posture": score}
        )
    pacs = _pacs(region)
    ingest(region.a, "exposure", [_exposure_dicom(region.a, pacs)], complete=False)
    data = posture_structure.structure_dashboard(
        region.users["centre_admin"], region.a, today=today
    )
    assert data.trend_days[-1] == today and data.trend_scores[-1] == data.score
    assert data.score < 100  # the open finding counts today
    # "30 days ago" is the series' point of 30 days ago, shown on the same chart
    assert data.score_before == 90
    assert (
        dict(zip(data.trend_days, data.trend_scores, strict=True))[today - dt.timedelta(days=30)]
        == data.score_before
    )
