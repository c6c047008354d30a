"""PingCastle healthcheck import: synthetic reports written in the real format's structure
(``HealthcheckData`` serialised by .NET's XmlSerializer: ``Details`` is a list of ``string``),
mapped and unmapped rules, scores as reported; hostile or malformed files are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.directory import pingcastle
from carbet.engines.directory.pingcastle import PingCastleError, parse

HERE = Path(__file__).parent


def _report(name: str) -> bytes:
    return (HERE / name).read_bytes()


def _by_rule(result):
    return {f.rule: f for f in result.findings}


def test_parse_maps_rules_and_keeps_scores():
    result = parse(_report("healthcheck_small.xml"))
    assert result.domain == "ch-alpha.local"
    assert result.anssi_level == 2  # PingCastle's maturity level
    assert result.scores == {
        "global": 60,
        "stale_objects": 23,
        "privileged_accounts": 60,
        "trusts": 0,
        "anomalies": 35,
    }
    assert result.collected_at == datetime(2026, 10, 2, 7, 15, 42, 123456, tzinfo=UTC)
    assert result.source == "pingcastle 3.3.0.1"
    findings = _by_rule(result)
    delegation = findings["vuln2_delegation_t4d"]
    assert delegation.objects == ["SRV-IMAGERIE$"] and delegation.points == 50
    assert delegation.exploitable_now and delegation.category == "privileged_accounts"
    assert "P-UnconstrainedDelegation" in delegation.description_fr
    assert findings["vuln2_krbtgt"].anssi == "vuln2_krbtgt" and findings["vuln2_krbtgt"].level == 2
    # No Details: the count comes from the rationale.
    assert findings["privileged_not_delegated"].objects == []
    assert findings["privileged_not_delegated"].objects_total == 2
    # Two PingCastle rules, one Carbet rule.
    legacy = findings["obsolete_os_legacy"]
    assert legacy.objects == ["PC-ACCUEIL-XP", "SRV-LABO-2003"]
    assert legacy.points == 23 and legacy.objects_total == 2
    unmapped = findings["pingcastle.A-NoGPOLLMNR"]
    assert unmapped.category == "anomalies" and unmapped.points == 15 and unmapped.anssi == ""
    assert unmapped.title_fr == "LLMNR can be used to steal credentials"
    assert result.findings[0].rule == "vuln2_delegation_t4d"  # exploitable first


def test_missing_scores_are_computed_like_carbet_and_level_from_controls():
    result = parse(_report("healthcheck_no_scores.xml"))
    assert result.domain == "ehpad-les-tilleuls.local"
    assert result.scores["trusts"] == 40
    assert result.scores["anomalies"] == 100  # 5 + 70 + 50, capped
    assert result.scores["global"] == 100
    assert result.anssi_level == 1  # vuln1_trusts_domain_notfiltered failed
    findings = _by_rule(result)
    assert findings["vuln1_trusts_domain_notfiltered"].objects == ["ancien-prestataire.local"]
    assert findings["gpp_passwords"].exploitable_now
    assert findings["pingcastle.A-BackupMetadata"].severity == 4
    assert findings["pingcastle.A-DCLdapsProtocol"].severity == 1
    assert result.collected_at == datetime(2026, 3, 14, 8, 0, tzinfo=UTC)


def test_to_json_has_the_same_contract_as_an_analysis():
    data = parse(_report("healthcheck_small.xml")).to_json()
    assert list(data)[:4] == ["domain", "anssi_level", "score", "findings"]
    assert list(data["findings"][0])[:8] == [
        "rule", "anssi", "level", "category", "points", "severity", "title", "objects",
    ]  # fmt: skip
    json.dumps(data)


def test_every_mapped_rule_exists_in_the_registry():
    from carbet.engines.directory.rules import all_rules

    assert set(pingcastle.RULE_MAP.values()) <= set(all_rules())


def test_minimal_report_with_byte_order_mark():
    data = b"\xef\xbb\xbf<HealthcheckData><DomainFQDN>a.local</DomainFQDN></HealthcheckData>"
    result = parse(data)
    assert result.domain == "a.local" and result.findings == [] and result.anssi_level == 5
    assert result.scores["global"] == 0


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<HealthcheckData><DomainFQDN>&lol3;</DomainFQDN></HealthcheckData>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE HealthcheckData [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<HealthcheckData><DomainFQDN>&secret;</DomainFQDN></HealthcheckData>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE HealthcheckData SYSTEM "http://127.0.0.1:9/evil.dtd">
<HealthcheckData><DomainFQDN>a.local</DomainFQDN></HealthcheckData>"""


def _rule(points: str = "5", risk_id: str = "A-Guest") -> str:
    return (
        f"<HealthcheckRiskRule><Points>{points}</Points><Category>Anomalies</Category>"
        f"<RiskId>{risk_id}</RiskId><Rationale>x</Rationale></HealthcheckRiskRule>"
    )


def _wrap(body: str, domain: str = "<DomainFQDN>a.local</DomainFQDN>") -> bytes:
    return f"<HealthcheckData>{domain}{body}</HealthcheckData>".encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BILLION_LAUGHS, "dangereuse"),
        (EXTERNAL_ENTITY, "dangereuse"),
        (EXTERNAL_DTD, "dangereuse"),
        (b"", "vide"),
        (b"   \n", "vide"),
        (b"PK\x03\x04 this is a zip", "XML"),
        (b"<HealthcheckData><DomainFQDN>a", "XML"),
        (b"<html><body>rapport</body></html>", "racine"),
        (b"<PingCastleReport/>", "racine"),
        (_wrap("", domain=""), "DomainFQDN"),
        (_wrap("<GlobalScore>cent</GlobalScore>"), "GlobalScore"),
        (_wrap("<GlobalScore>250</GlobalScore>"), "hors de 0 à 100"),
        (_wrap("<MaturityLevel>9</MaturityLevel>"), "maturité"),
        (_wrap("<GenerationDate>hier</GenerationDate>"), "date"),
        (_wrap(f"<RiskRules>{_rule(points='beaucoup')}</RiskRules>"), "Points"),
        (_wrap(f"<RiskRules>{_rule(points='-5')}</RiskRules>"), "négatifs"),
        (_wrap(f"<RiskRules>{_rule(risk_id='')}</RiskRules>"), "RiskId"),
    ],
)
def test_hostile_or_malformed_reports_are_refused_with_a_clear_message(data, message):
    with pytest.raises(PingCastleError, match=message):
        parse(data)


def test_huge_reports_and_too_many_rules_are_refused(monkeypatch):
    monkeypatch.setattr(pingcastle, "MAX_BYTES", 1000)
    with pytest.raises(PingCastleError, match="volumineux"):
        parse(b"<HealthcheckData>" + b" " * 2000 + b"</HealthcheckData>")
    monkeypatch.setattr(pingcastle, "MAX_BYTES", 64 * 1024 * 1024)
    monkeypatch.setattr(pingcastle, "MAX_RULES", 3)
    with pytest.raises(PingCastleError, match="trop de règles"):
        parse(_wrap("<RiskRules>" + _rule() * 4 + "</RiskRules>"))


def test_deeply_nested_xml_is_refused_or_parsed_never_crashes():
    data = b"<HealthcheckData>" + b"<a>" * 50000 + b"</a>" * 50000 + b"</HealthcheckData>"
    try:
        parse(data)
    except PingCastleError:
        pass


def test_non_bytes_input_is_refused():
    with pytest.raises(PingCastleError):
        parse("<HealthcheckData/>")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_a_result_or_a_clear_error(data):
    try:
        parse(data)
    except PingCastleError:
        pass


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=8),
            st.sampled_from(["StaleObjects", "Trusts", "?", ""]),
            st.text(max_size=6),
        ),
        max_size=5,
    )
)
def test_random_rules_in_a_valid_frame(rules):
    from xml.sax.saxutils import escape

    body = "".join(
        f"<HealthcheckRiskRule><Points>{escape(points)}</Points>"
        f"<Category>{category}</Category><RiskId>{escape(risk)}</RiskId></HealthcheckRiskRule>"
        for risk, category, points in rules
    )
    try:
        result = parse(_wrap(f"<RiskRules>{body}</RiskRules>"))
    except PingCastleError:
        return
    assert all(0 <= value <= 100 for value in result.scores.values())
