"""A tiny, valid one-page PDF standing in for a signed mandate in the demo region.

Written object by object with a correct cross-reference table, so PDF readers open it without
repair. The text uses the standard Helvetica font with WinAnsi encoding (Latin-1 accents work).
"""

from __future__ import annotations


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi (cp1252), with its special characters escaped."""
    raw = text.encode("cp1252", errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def mandate_pdf(lines: list[str]) -> bytes:
    """Return the bytes of an A4 page showing ``lines`` of text from the top left."""
    content = [b"BT /F1 12 Tf 16 TL 72 770 Td"]
    for index, line in enumerate(lines):
        if index:
            content.append(b"T*")
        content.append(_pdf_string(line) + b" Tj")
    content.append(b"ET")
    stream = b"\n".join(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)
