"""Analysing any well-typed snapshot never crashes and always keeps the contract.

Snapshots come from the collector, from uploaded files (after ``Snapshot.from_dict``
validation) or from tests: the types hold, the values can be anything — empty names, odd SIDs,
dangling member DNs, membership cycles, dates far in the past or future.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.engines.directory.analysis import INTERNAL_ERROR, RuleException, analyse
from carbet.engines.directory.model import (
    Account,
    Ace,
    CertTemplate,
    Descriptor,
    DnsZone,
    Domain,
    Group,
    PasswordPolicy,
    Snapshot,
    Trust,
)
from carbet.engines.directory.scoring import CATEGORIES

SIDS = st.sampled_from(
    [
        "S-1-5-21-1-2-3-500",
        "S-1-5-21-1-2-3-512",
        "S-1-5-21-1-2-3-525",
        "S-1-5-21-1-2-3-1105",
        "S-1-5-32-544",
        "S-1-5-32-551",
        "S-1-5-7",
        "S-1-1-0",
        "S-1-5-21-1-2-3-x",
        "",
        "garbage",
    ]
)
DNS = st.sampled_from(["CN=a,DC=t", "CN=b,DC=t", "CN=g1,DC=t", "CN=g2,DC=t", "", "x"])
DATES = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1601, 1, 2), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
    ),
)
TEXT = st.text(max_size=12)
INTS = st.integers(min_value=-(2**31), max_value=2**32)

accounts = st.builds(
    Account,
    dn=DNS,
    sam=TEXT,
    sid=SIDS,
    uac=INTS,
    primary_group_id=st.sampled_from([513, 512, 515, 516, 521, 0, -1]),
    pwd_last_set=DATES,
    last_logon=DATES,
    when_created=DATES,
    spns=st.lists(TEXT, max_size=2),
    member_of=st.lists(DNS, max_size=3),
    sid_history=st.lists(SIDS, max_size=2),
    admin_count=st.one_of(st.none(), INTS),
    supported_enc_types=st.one_of(st.none(), INTS),
    allowed_to_delegate_to=st.lists(st.sampled_from(["cifs/dc1", "a/b/c", "", "/"]), max_size=2),
    rbcd=st.booleans(),
    description=TEXT,
    is_computer=st.booleans(),
    os_name=st.sampled_from(["", "Windows XP", "Windows Server 2012 R2", "Windows 10 Pro", "Ä"]),
    laps_expiry=DATES,
    is_dc=st.booleans(),
)
groups = st.builds(Group, dn=DNS, sam=TEXT, sid=SIDS, members=st.lists(DNS, max_size=4))
policies = st.builds(
    PasswordPolicy,
    name=TEXT,
    min_length=INTS,
    complexity=st.booleans(),
    reversible=st.booleans(),
    lockout_threshold=INTS,
    applies_to=st.lists(DNS, max_size=2),
)
aces = st.builds(
    Ace,
    trustee=SIDS,
    kind=st.sampled_from(["allow", "deny", "allow_object", "deny_object", "?"]),
    mask=INTS,
    object_type=st.sampled_from(["", "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2", "zz"]),
)
descriptors = st.one_of(st.none(), st.builds(Descriptor, owner=SIDS, dacl=st.lists(aces)))
domains = st.builds(
    Domain,
    dns_name=TEXT,
    sid=st.sampled_from(["", "S-1-5-21-1-2-3", "bad"]),
    domain_functional_level=st.one_of(st.none(), INTS),
    forest_functional_level=st.one_of(st.none(), INTS),
    machine_account_quota=st.one_of(st.none(), INTS),
    ds_heuristics=TEXT,
    password_policy=policies,
    krbtgt_pwd_last_set=DATES,
    laps_schema=st.booleans(),
    recycle_bin=st.one_of(st.none(), st.booleans()),
    pre2000_members=st.lists(st.one_of(SIDS, DNS), max_size=3),
)
snapshots = st.builds(
    Snapshot,
    domain=domains,
    collected_at=st.just(datetime(2026, 1, 1, tzinfo=UTC)),
    users=st.lists(accounts, max_size=6),
    computers=st.lists(accounts, max_size=4),
    groups=st.lists(groups, max_size=5),
    trusts=st.lists(
        st.builds(
            Trust, name=TEXT, direction=INTS, trust_type=INTS, attributes=INTS, when_changed=DATES
        ),
        max_size=2,
    ),
    psos=st.lists(policies, max_size=2),
    domain_descriptor=descriptors,
    adminsdholder_descriptor=descriptors,
    dns_zones=st.lists(st.builds(DnsZone, name=TEXT, dynamic_update=TEXT), max_size=2),
    cert_templates=st.lists(
        st.builds(
            CertTemplate,
            name=TEXT,
            enrollee_supplies_subject=st.booleans(),
            client_auth=st.booleans(),
            enroll_sids=st.lists(SIDS, max_size=2),
        ),
        max_size=2,
    ),
    gpp_passwords=st.lists(st.dictionaries(st.sampled_from(["gpo", "path", "user"]), TEXT)),
    gaps=st.lists(st.sampled_from(["users: x", "domain: y", "laps", ":", ""]), max_size=2),
    pseudonymised=st.booleans(),
)
exceptions = st.lists(
    st.builds(
        RuleException,
        rule=st.sampled_from(["vuln2_krbtgt", "guest_enabled", "x"]),
        object=st.sampled_from(["*", "krbtgt", ""]),
    ),
    max_size=3,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    snapshot=snapshots,
    offset=st.integers(min_value=-3000, max_value=3000),
    excepted=exceptions,
)
def test_analysis_never_crashes_and_keeps_the_contract(snapshot, offset, excepted):
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=offset)
    result = analyse(snapshot, now=now, exceptions=excepted)
    assert 1 <= result.anssi_level <= 5
    assert set(result.scores) == {"global", *CATEGORIES}
    assert all(0 <= value <= 100 for value in result.scores.values())
    assert result.scores["global"] == max(result.scores[c] for c in CATEGORIES)
    for finding in result.findings:
        assert finding.points >= 0 and 0 <= finding.severity <= 4
    assert not any(INTERNAL_ERROR in n.reason for n in result.not_evaluated), result.not_evaluated
    json.dumps(result.to_json())
