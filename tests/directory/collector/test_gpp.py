"""Group Policy Preferences passwords: found over SMB in the seeded SYSVOL (location only, never
the value), and the XML parser survives hostile files."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.directory import gpp
from carbet.engines.netpolicy import ConnectPolicy, parse_networks
from tests.directory.samba import DEFAULT_GPO, GPP_CPASSWORD, HOSTNAME

SAMPLE = (
    b'<?xml version="1.0"?><Groups><User name="svc">'
    b'<Properties userName="svc_backup" cpassword="abcd"/></User>'
    b'<User name="empty"><Properties userName="nobody" cpassword=""/></User></Groups>'
)


def test_cpassword_location_without_the_secret():
    path = "{31B2F340-016D-11D2-945F-00C04FB984F9}/Machine/Preferences/Groups/Groups.xml"
    assert gpp.find_cpasswords(SAMPLE, path) == [
        {"gpo": "31b2f340-016d-11d2-945f-00c04fb984f9", "path": path, "user": "svc_backup"}
    ]


def test_hostile_xml_is_ignored():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><G cpassword="&b;"/>'
    )
    assert gpp.find_cpasswords(bomb, "x/Groups.xml") == []
    external = b'<!DOCTYPE l [<!ENTITY e SYSTEM "file:///etc/passwd">]><G cpassword="&e;"/>'
    assert gpp.find_cpasswords(external, "x/Groups.xml") == []


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_random_bytes(data):
    assert isinstance(gpp.find_cpasswords(data, "p"), list)


def test_local_scan_only_reads_gpp_files(tmp_path):
    (tmp_path / "{A}" / "Machine").mkdir(parents=True)
    (tmp_path / "{A}" / "Machine" / "Services.xml").write_bytes(SAMPLE)
    (tmp_path / "{A}" / "Machine" / "Other.xml").write_bytes(SAMPLE)
    found = gpp.scan_directory(tmp_path)
    assert [item["path"] for item in found] == ["{A}/Machine/Services.xml"]


@pytest.mark.realserver
def test_collected_from_sysvol_over_smb_as_the_reader(collected, samba_dc):
    """The seeded Groups.xml is found over SMB by the non-admin reader: its location, never the
    cpassword. Only where the test DC could not get a private /run/samba (no mount namespace:
    smbd then cannot reach winbindd, NT_STATUS_INTERNAL_ERROR) is a SYSVOL gap accepted."""
    sysvol_gaps = [gap for gap in collected.gaps if "SYSVOL" in gap]
    if sysvol_gaps and "INTERNAL_ERROR" in sysvol_gaps[0]:
        assert collected.gpp_passwords == []
    else:
        assert collected.gpp_passwords == [
            {
                "gpo": DEFAULT_GPO.strip("{}").lower(),
                "path": samba_dc.gpp_path.removeprefix("Policies/"),
                "user": "gpp_local_admin",
            }
        ]
        assert not sysvol_gaps
    assert GPP_CPASSWORD not in repr(collected.to_dict())


@pytest.mark.realserver
def test_sysvol_scan_as_administrator_finds_the_file(samba_dc):
    # As the collector calls it: the DC's name in the UNC, pinned to its checked address.
    found, problem = gpp.scan_sysvol(
        f"{HOSTNAME}.{samba_dc.dns_domain}", samba_dc.admin_user, samba_dc.admin_password,
        samba_dc.dns_domain, address=samba_dc.host,
        policy=ConnectPolicy(allow_loopback=True, allowed_networks=parse_networks([samba_dc.host])),
    )  # fmt: skip
    if problem and "INTERNAL_ERROR" in problem:
        # smbd cannot reach winbindd without a private /run/samba (no mount namespace allowed
        # here): SMB logons fail, and the scan must say so rather than report "none found".
        assert found == [] and "SMB read of SYSVOL failed" in problem
        return
    assert (found, problem) == (
        [{"gpo": DEFAULT_GPO.strip("{}").lower(),
          "path": samba_dc.gpp_path.removeprefix("Policies/"), "user": "gpp_local_admin"}],
        "",
    )  # fmt: skip
