"""Property tests of every parser of peer bytes: never raise, and read back what builders make."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.ports import dbparsers as db
from carbet.engines.exposure.ports import medparsers as med
from carbet.engines.exposure.ports import parsers as p

PORTS = st.sampled_from([21, 22, 23, 25, 80, 2121, 3306, 5900, 7001])

BYTE_PARSERS = (
    p.parse_ssh_banner, p.parse_mysql_handshake, p.parse_rfb_version, p.parse_http_response,
    p.parse_elasticsearch, p.parse_fhir_capability, p.parse_x224_confirm,
    p.parse_smb2_negotiate, p.parse_smb1_negotiate, p.parse_ehlo, p.parse_reply_lines,
    p.parse_json_body, med.parse_dicom_pdu, med.parse_mllp_reply, db.parse_redis_replies,
    db.parse_postgres_ssl_reply, db.parse_tds_prelogin, db.parse_tns_reply, db.bson_decode,
    db.parse_mongo_reply,
)  # fmt: skip


@given(st.binary(max_size=2048))
def test_no_parser_raises_on_arbitrary_bytes(data):
    for parser in BYTE_PARSERS:
        parser(data)
    p.split_telnet(data)
    p.printable(data)


@given(st.binary(max_size=512), PORTS)
def test_banner_classification_never_raises(data, port):
    info = p.classify_banner(data, port)
    assert info is None or isinstance(info.get("service"), str)
    p.parse_smtp_greeting(data, port)
    p.parse_ftp_greeting(data, port)


@given(st.binary(max_size=512), st.sampled_from(["3.3", "3.7", "3.8", "3.889"]))
def test_rfb_security_never_raises(data, protocol):
    p.parse_rfb_security(data, protocol)


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=64))
def test_prefixes_of_valid_replies_are_safe(noise):
    """Truncated versions of real replies (a peer that hangs up mid-message)."""
    valid = [
        p.rdp_connection_request(), p.smb2_negotiate_request(), p.smb1_negotiate_request(),
        med.dicom_associate_request("A", "B"), med.hl7_probe_message(), db.tds_prelogin_request(),
        db.tns_connect_request(), db.mongo_op_msg({"hello": 1}, 1),
    ]  # fmt: skip
    for message in valid:
        for cut in range(0, len(message), max(1, len(message) // 16)):
            for parser in BYTE_PARSERS:
                parser(message[:cut] + noise)


@given(st.from_regex(r"[0-9]\.[0-9]{1,2}(p[0-9])?", fullmatch=True), st.text(max_size=30))
def test_openssh_banner_roundtrip(version, comment):
    banner = f"SSH-2.0-OpenSSH_{version} {comment}".encode("utf-8", "replace") + b"\r\n"
    info = p.parse_ssh_banner(banner)
    assert info["product"] == "OpenSSH"
    assert info["version"] == version
    assert info["cpe"].startswith("cpe:2.3:a:openbsd:openssh:")


@given(st.sampled_from([0, 1, 2, 4, 8]))
def test_x224_confirm_roundtrip(selected):
    negotiation = struct.pack("<BBHI", 0x02, 0, 8, selected)
    x224 = bytes((6 + len(negotiation), 0xD0, 0, 0, 0, 0, 0)) + negotiation
    info = p.parse_x224_confirm(struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224)
    assert info["selected_protocol"] == p.RDP_PROTOCOLS[selected]
    assert info["nla"] is (selected in (2, 8))


@given(st.integers(0, 3), st.sampled_from([0x0202, 0x0210, 0x0300, 0x0302, 0x0311]))
def test_smb2_negotiate_roundtrip(mode, dialect):
    header = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, b"")
    body = struct.pack("<HHHH16sIIII", 65, mode, dialect, 0, b"G" * 16, 0, 1, 1, 1) + bytes(24)
    message = header + body
    info = p.parse_smb2_negotiate(b"\x00" + len(message).to_bytes(3, "big") + message)
    assert info["signing_required"] is bool(mode & 2)
    assert info["dialect"] != ""


@given(st.integers(0, 255), st.integers(0, 255))
def test_rfb_version_roundtrip(major, minor):
    info = p.parse_rfb_version(f"RFB {major:03d}.{minor:03d}\n".encode())
    assert info["protocol"] == f"{major}.{minor}"


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True),
        st.from_regex(r"[ -~]{0,40}", fullmatch=True).map(str.strip),
        max_size=8,
    ),
    st.integers(100, 599),
    st.binary(max_size=200),
)
def test_http_response_roundtrip(headers, status, body):
    head = f"HTTP/1.1 {status} Reason\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    response = p.parse_http_response(head.encode() + b"\r\n" + body)
    assert response["status"] == status
    assert response["body"] == body
    for name, value in headers.items():
        assert value in response["headers"][name.lower()]


@given(st.sampled_from([(1, 1, 7), (1, 1, 3), (2, 2, 2), (1, 3, 1)]))
def test_dicom_reject_roundtrip(triple):
    info = med.parse_dicom_pdu(struct.pack(">BBI", 0x03, 0, 4) + bytes((0, *triple)))
    assert info["association"] == "rejected"
    assert info["permanent"] is (triple[0] == 1)


def test_dicom_associate_request_is_well_formed():
    request = med.dicom_associate_request("CARBET-SCAN", "ANY-SCP")
    assert request[0] == 0x01 and int.from_bytes(request[2:6], "big") == len(request) - 6
    assert request[10:26] == b"ANY-SCP".ljust(16) and request[26:42] == b"CARBET-SCAN".ljust(16)
    accepted = b"\x02\x00" + request[2:]  # the same body read back as an A-ASSOCIATE-AC
    assert med.parse_dicom_pdu(accepted)["association"] == "accepted"


@given(
    st.from_regex(r"[A-Za-z0-9 ]{1,20}", fullmatch=True),
    st.sampled_from(["AA", "AE", "AR", "CA"]),
)
def test_mllp_roundtrip(application, code):
    message = f"MSH|^~\\&|{application}|FAC|||20250101||ACK|1|P|2.5\rMSA|{code}|1\r".encode()
    info = med.parse_mllp_reply(b"\x0b" + message + b"\x1c\x0d")
    assert info["ack_code"] == code
    assert info["sending_application"] == " ".join(application.split())
    assert info["framed"] is True


@given(st.binary(max_size=300))
def test_telnet_refuses_every_option(data):
    text, answer, _ = p.split_telnet(data)
    assert len(text) <= len(data)
    for index in range(0, len(answer), 3):
        assert answer[index] == 255 and answer[index + 1] in (p.WONT, p.DONT)


@given(st.dictionaries(st.from_regex(r"[a-z$]{1,10}", fullmatch=True),
                       st.one_of(st.integers(-(2**31), 2**31 - 1), st.booleans(),
                                 st.text(max_size=20)), max_size=6))  # fmt: skip
def test_bson_roundtrip(document):
    assert db.bson_decode(db.bson_encode(document)) == document


@given(st.text(max_size=40))
def test_redis_info_version(version_noise):
    info_body = f"# Server\r\nredis_version:7.2.4\r\nos:{version_noise}\r\n".encode()
    reply = b"+PONG\r\n$" + str(len(info_body)).encode() + b"\r\n" + info_body + b"\r\n"
    info = db.parse_redis_replies(reply)
    assert info["auth_required"] is False and info["version"] == "7.2.4"


def test_known_banners():
    assert p.parse_smtp_greeting(b"220 mx ESMTP Exim 4.96 Mon\r\n", 25)["version"] == "4.96"
    assert p.parse_ftp_greeting(b"220 ProFTPD 1.3.8 Server\r\n", 21)["product"] == "ProFTPD"
    payload = b"\x0a5.5.5-10.6.12-MariaDB-0ubuntu0.22.04.1\x00" + bytes(8)
    maria = p.parse_mysql_handshake(len(payload).to_bytes(3, "little") + b"\x00" + payload)
    assert (maria["product"], maria["version"]) == ("MariaDB", "10.6.12")
    assert (
        db.parse_tns_reply(
            struct.pack(">HHBBH", 60, 0, 4, 0, 0)
            + b"(DESCRIPTION=(TMP=)(VSNNUM=318767104)(ERR=1189))"
        )["version"]
        == "19.0.0.0.0"
    )
    assert p.parse_smb1_negotiate(b"\x00\x00\x00\x30\xffSMB\x72" + bytes(27) + b"\x01\xff\xff")\
        is False  # fmt: skip
    response = p.parse_http_response(b"HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\n\r\n")
    assert p.http_product(response)["product"] == "Microsoft IIS"
