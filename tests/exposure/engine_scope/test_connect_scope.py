"""Every connection the exposure engine opens is checked, at that moment, on the exact address.

One test per path a scan could be led by (issue 11): a name, an MX, a redirect, a CNAME chain,
DNS rebinding between the check and the connection, the centre's own range. Each proves ZERO
connections on the forbidden listener (they count every accept), the refusal recorded on the
result (never silently skipped), the target partial, and what the name resolved to shown.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanContext, TargetResult, recording
from carbet.engines.netpolicy import ScopeRefused

from . import lab

pytestmark = pytest.mark.realserver


def _scan(scope_lab, target: str, policy, **overrides) -> TargetResult:
    [result] = runner.scan([target], scope_lab.config(policy, **overrides))
    return result


def _refused(result: TargetResult) -> dict[str, dict]:
    return {record["address"]: record for record in result.refused}


def _assert_partial_and_said(result: TargetResult) -> None:
    assert result.complete is False
    assert any(error.startswith("Carbet n'a pas contacté") for error in result.errors)


def test_a_name_resolving_to_loopback_is_refused_when_loopback_is_not_allowed(scope_lab):
    before = lab.connections(lab.LOCAL)
    result = _scan(scope_lab, "local.scope.test", scope_lab.policy(allow_loopback=False))
    assert lab.connections(lab.LOCAL) == before
    assert result.addresses == [lab.LOCAL]  # what the name resolved to is shown
    record = _refused(result)[lab.LOCAL]
    assert (record["reason"], record["via"], record["name"]) == (
        "loopback",
        "name",
        "local.scope.test",
    )
    assert not result.services and not result.observations
    _assert_partial_and_said(result)


def test_a_name_resolving_to_another_structures_address_is_refused(scope_lab):
    before = lab.connections(lab.FOREIGN)
    results = runner.scan(["foreign.scope.test", lab.FOREIGN], scope_lab.config(scope_lab.policy()))
    assert lab.connections(lab.FOREIGN) == before
    by_name, literal = results
    assert by_name.addresses == [lab.FOREIGN]
    assert _refused(by_name)[lab.FOREIGN]["reason"] == "other_structure"
    assert _refused(literal)[lab.FOREIGN]["via"] == "target"
    for result in results:
        assert not result.services and not result.observations
        _assert_partial_and_said(result)


def test_mx_and_mta_sts_in_the_centre_range_are_never_contacted(scope_lab):
    before = lab.connections(lab.CENTRE)
    result = _scan(scope_lab, "domain:mail-centre.scope.test", scope_lab.policy())
    assert lab.connections(lab.CENTRE) == before
    records = [r for r in result.refused if r["address"] == lab.CENTRE]
    assert {(r["via"], r["name"]) for r in records} == {
        ("mx", "mx-centre.scope.test"),
        ("name", "mta-sts.mail-centre.scope.test"),
    }
    assert {r["reason"] for r in records} == {"centre"}
    smtp = result.evidence["dns"]["smtp"]
    assert smtp == [
        {
            "host": "mx-centre.scope.test",
            "reachable": False,
            "refused": True,
            "addresses": [lab.CENTRE],
            "cnames": [],
        }
    ]
    # A refused address is not turned into findings about it.
    checks = {observation.check for observation in result.observations}
    assert not checks & {"mail.mx.unreachable", "mail.mtasts.invalid", "mail.starttls.missing"}
    _assert_partial_and_said(result)


def test_an_mx_named_by_another_structure_is_refused_the_next_one_probed(scope_lab):
    under_foreign = lab.connections(lab.ALLOWED_UNDER_FOREIGN_NAME)
    allowed = lab.connections(lab.ALLOWED_MX)
    result = _scan(scope_lab, "domain:mail-foreign.scope.test", scope_lab.policy())
    assert lab.connections(lab.ALLOWED_UNDER_FOREIGN_NAME) == under_foreign
    assert lab.connections(lab.ALLOWED_MX) > allowed
    record = _refused(result)[lab.ALLOWED_UNDER_FOREIGN_NAME]
    assert (record["reason"], record["via"], record["name"]) == (
        "name_other_structure",
        "mx",
        "mx.other.test",
    )
    probed = {probe["host"]: probe for probe in result.evidence["dns"]["smtp"]}
    assert probed["mx.other.test"]["refused"] is True
    assert probed["mx-ok.scope.test"]["reachable"] is True
    _assert_partial_and_said(result)


def test_redirects_to_the_centre_or_to_another_structures_name_are_not_followed(scope_lab):
    centre, foreign = lab.connections(lab.CENTRE), lab.connections(lab.FOREIGN)
    site = lab.connections(lab.ALLOWED_WEB)
    to_centre, to_other = runner.scan(
        ["web.scope.test", "web2.scope.test"], scope_lab.config(scope_lab.policy())
    )
    assert lab.connections(lab.CENTRE) == centre
    assert lab.connections(lab.FOREIGN) == foreign
    assert lab.connections(lab.ALLOWED_WEB) > site  # the structure's own site was scanned
    port = str(scope_lab.http_port)
    assert to_centre.evidence["web"][port]["redirect_host"] == f"{lab.CENTRE}:{port}"
    assert to_other.evidence["web"][port]["redirect_host"] == f"site.other.test:{port}"
    assert to_centre.evidence["web"][port]["left_host"] is True


def test_a_cname_chain_ending_in_the_centre_range_is_refused(scope_lab):
    before = lab.connections(lab.CENTRE)
    chain, mail = runner.scan(
        ["chain.scope.test", "domain:mail-cname.scope.test"],
        scope_lab.config(scope_lab.policy()),
    )
    assert lab.connections(lab.CENTRE) == before
    assert chain.evidence["resolution"]["cnames"] == ["hop1.scope.test", "hop2.scope.test"]
    assert chain.addresses == [lab.CENTRE]
    assert _refused(chain)[lab.CENTRE]["reason"] == "centre"
    [probe] = mail.evidence["dns"]["smtp"]
    assert probe["refused"] is True and probe["cnames"] == ["hop2.scope.test"]
    _assert_partial_and_said(chain)
    _assert_partial_and_said(mail)


def test_a_cname_through_another_structures_name_is_refused(scope_lab):
    before = lab.connections(lab.ALLOWED_UNDER_FOREIGN_NAME)
    result = _scan(scope_lab, "viaforeign.scope.test", scope_lab.policy())
    assert lab.connections(lab.ALLOWED_UNDER_FOREIGN_NAME) == before
    record = _refused(result)[lab.ALLOWED_UNDER_FOREIGN_NAME]
    assert (record["reason"], record["via"], record["name"]) == (
        "name_other_structure",
        "cname",
        "www.other.test",
    )


def test_dns_rebinding_between_check_and_connect_reaches_nothing(scope_lab):
    """rebind.scope.test answers the allowed address first (the target's own resolution), then
    the centre's (when the mail probe resolves the same name as the domain's MX): the second
    answer is checked on its own, so the centre's listener sees nothing."""
    scope_lab.dns.rebind_questions = 0
    centre, allowed = lab.connections(lab.CENTRE), lab.connections(lab.ALLOWED_REBIND)
    result = _scan(scope_lab, "domain:rebind.scope.test", scope_lab.policy())
    assert scope_lab.dns.rebind_questions >= 2, "the name must have been asked twice"
    assert lab.connections(lab.CENTRE) == centre
    assert lab.connections(lab.ALLOWED_REBIND) > allowed  # the first answer was scanned
    assert result.addresses == [lab.ALLOWED_REBIND]
    [probe] = result.evidence["dns"]["smtp"]
    assert probe["addresses"] == [lab.CENTRE] and probe["refused"] is True
    record = _refused(result)[lab.CENTRE]
    assert (record["reason"], record["via"], record["name"]) == (
        "centre",
        "mx",
        "rebind.scope.test",
    )


def test_a_connection_is_only_ever_made_to_a_checked_literal(scope_lab):
    """The last line of defence: handed a name (which the system would resolve again, after
    any check) or a refused address, ``open_connection`` raises before any socket exists."""
    ctx = ScanContext(scope_lab.config(scope_lab.policy()))
    result = TargetResult(target="x")
    before = lab.connections(lab.CENTRE)

    async def attempt(address: str) -> None:
        with recording(result):
            await ctx.open_connection("x", address, scope_lab.http_port)

    for address in ("centre.scope.test", lab.CENTRE, f"::ffff:{lab.CENTRE}"):
        with pytest.raises(ScopeRefused):
            asyncio.run(attempt(address))
    assert lab.connections(lab.CENTRE) == before
    assert [r["reason"] for r in result.refused] == ["invalid", "centre", "centre"]


def test_the_centre_range_is_refused_by_name_and_as_a_literal(scope_lab):
    before = lab.connections(lab.CENTRE)
    by_name, literal = runner.scan(
        ["centre.scope.test", lab.CENTRE], scope_lab.config(scope_lab.policy())
    )
    assert lab.connections(lab.CENTRE) == before
    assert _refused(by_name)[lab.CENTRE]["reason"] == "centre"
    assert _refused(literal)[lab.CENTRE]["reason"] == "centre"


def test_the_analysts_own_tool_scans_exactly_what_it_is_told_loopback_included(scope_lab):
    """No policy (``carbet scan TARGET…`` without ``--structure``): a lab tool."""
    before = lab.connections(lab.LOCAL)
    result = _scan(scope_lab, lab.LOCAL, None)
    assert lab.connections(lab.LOCAL) > before
    assert result.refused == [] and result.services


ENGINE = Path(__file__).resolve().parents[3] / "carbet" / "engines" / "exposure"
# Where a socket may be opened: ScanContext.open_connection (checked), port discovery's bare
# sockets (each connect asks ctx.guard(address) first), and the DNS client's sockets to the
# configured resolver (the installation's own infrastructure, not something a scanned name
# chooses).
ALLOWED_SOCKETS = {
    ("core.py", "asyncio.open_connection("),
    ("ports/discovery.py", "socket.socket("),
    ("ports/discovery.py", ".connect_ex("),
    ("mail/dnsclient.py", "socket.socket("),
    ("mail/dnsclient.py", "dns.asyncquery.tcp("),
    ("mail/dnsclient.py", "create_datagram_endpoint("),
}


def test_no_probe_opens_a_socket_around_the_policy():
    patterns = re.compile(
        r"asyncio\.open_connection\(|socket\.socket\(|\.connect_ex\(|create_connection\(|"
        r"dns\.asyncquery\.tcp\(|\.sock_connect\(|create_datagram_endpoint\("
    )
    found = set()
    # Every sub-package (ports/, tls/, web/, mail/, vulns/), not only the top level.
    for path in ENGINE.rglob("*.py"):
        for match in patterns.finditer(path.read_text()):
            found.add((path.relative_to(ENGINE).as_posix(), match.group(0)))
    assert found <= ALLOWED_SOCKETS, found - ALLOWED_SOCKETS
