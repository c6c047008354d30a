"""A small writer of long, text-only, tagged PDF files: the full main courante.

Why not WeasyPrint here: a three-month crisis holds 20,000 log entries or more. WeasyPrint lays
out each of them as boxes and took about 90 s for 20,000 short entries on the test machine; the
log must be printable at any time, in seconds, including on the worst day. This writer does one
thing: lines of text in one embedded font, wrapped by the font's own widths, in A4 pages with a
footer. The file stays a tagged PDF (PDF/UA-1 as far as a text document goes): the language, the
title shown by viewers, a structure tree (Document → H1 / P, one P per entry, in reading order),
the page footers marked as artifacts, and the font embedded (a subset of DejaVu Sans, the font
WeasyPrint already relies on).

Characters outside Windows-1252 (the font's simple encoding) are printed as "?" (the CSV export
keeps every character).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points
MARGIN = 42.0
ENCODING = "cp1252"


@dataclass(frozen=True)
class _Font:
    data: bytes
    widths: tuple[int, ...]  # codes 32..255, in thousandths of the size
    ascent: int
    descent: int
    bbox: tuple[int, int, int, int]
    cap_height: int


def _font_path() -> Path:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    import subprocess

    found = subprocess.run(
        ["fc-match", "-f", "%{file}", "DejaVu Sans:style=Book"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if found and found.lower().endswith(".ttf") and Path(found).exists():
        return Path(found)
    raise FileNotFoundError("no TrueType sans-serif font found for the PDF (install fonts-dejavu)")


@cache
def _font() -> _Font:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    path = _font_path()
    chars = [bytes([code]).decode(ENCODING, "replace") for code in range(32, 256)]
    font = TTFont(str(path))
    options = subset.Options()
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(ch for ch in chars if ch != "\ufffd"))
    subsetter.subset(font)
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    upm = font["head"].unitsPerEm
    scale = 1000 / upm

    def width(ch: str) -> int:
        glyph = cmap.get(ord(ch)) or cmap.get(ord("?"))
        return round(hmtx[glyph][0] * scale) if glyph else 500

    widths = tuple(width(ch if ch != "\ufffd" else "?") for ch in chars)
    head = font["head"]
    hhea = font["hhea"]
    os2 = font["OS/2"]
    out = io.BytesIO()
    font.save(out)
    return _Font(
        data=out.getvalue(),
        widths=widths,
        ascent=round(hhea.ascent * scale),
        descent=round(hhea.descent * scale),
        bbox=(
            round(head.xMin * scale),
            round(head.yMin * scale),
            round(head.xMax * scale),
            round(head.yMax * scale),
        ),
        cap_height=round(getattr(os2, "sCapHeight", 700) * scale) or 700,
    )


def _encode(text: str) -> bytes:
    return text.encode(ENCODING, "replace")


def _escape(raw: bytes) -> bytes:
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_string(text: str) -> bytes:
    """A text string for the document's dictionaries (UTF-16BE with its mark)."""
    data = b"\xfe\xff" + text.encode("utf-16-be")
    return b"<" + data.hex().encode() + b">"


@dataclass
class _Block:
    tag: str  # "H1" or "P"
    marks: list[tuple[int, int]] = field(default_factory=list)  # (page index, mcid)


class TextPdf:
    """Add headings and paragraphs in reading order, then ``render()`` the file."""

    def __init__(self, title: str, *, lang: str = "fr", footer: str = "") -> None:
        self.title = title
        self.lang = lang
        self.footer = footer
        self.font = _font()
        self.pages: list[list[bytes]] = []
        self.page_mcids: list[list[int]] = []  # per page: block index of each mcid
        self.blocks: list[_Block] = []
        self.y = 0.0
        self._new_page()

    # ---- layout ---------------------------------------------------------------------------
    def _new_page(self) -> None:
        self.pages.append([])
        self.page_mcids.append([])
        self.y = PAGE_H - MARGIN

    def text_width(self, raw: bytes, size: float) -> float:
        """The width of encoded text at ``size``, in points."""
        widths = self.font.widths
        return sum(widths[b - 32] if b >= 32 else 0 for b in raw) * size / 1000

    def wrap(self, text: str, size: float, width: float) -> list[bytes]:
        limit = width * 1000 / size  # in thousandths, the font's unit
        widths = self.font.widths
        space = widths[0]
        lines: list[bytes] = []
        for paragraph in text.replace("\r", "").split("\n"):
            line, used = b"", 0
            for word in _encode(paragraph.replace("\t", " ")).split(b" "):
                w = sum(widths[b - 32] if b >= 32 else 0 for b in word)
                if line and used + space + w <= limit:
                    line, used = line + b" " + word, used + space + w
                    continue
                if line or used:
                    lines.append(line)
                while w > limit and len(word) > 1:  # a very long token: cut it
                    cut, cw = 0, 0
                    while cut < len(word) and cw + widths[max(word[cut] - 32, 0)] <= limit:
                        cw += widths[max(word[cut] - 32, 0)]
                        cut += 1
                    cut = max(cut, 1)
                    lines.append(word[:cut])
                    word = word[cut:]
                    w = sum(widths[b - 32] if b >= 32 else 0 for b in word)
                line, used = word, w
            lines.append(line)
        return lines

    def _block(
        self, tag: str, lines: list[bytes], size: float, gap: float, strike_from: int
    ) -> None:
        block = _Block(tag)
        index = len(self.blocks)
        self.blocks.append(block)
        leading = size * 1.25
        bottom = MARGIN + 18
        chunk: list[tuple[bytes, float, int]] = []

        def flush() -> None:
            if not chunk:
                return
            page = len(self.pages) - 1
            mcid = len(self.page_mcids[page])
            self.page_mcids[page].append(index)
            block.marks.append((page, mcid))
            ops = [f"/{tag} <</MCID {mcid}>> BDC BT /F1 {size:.2f} Tf".encode()]
            for raw, y, _number in chunk:
                ops.append(f"1 0 0 1 {MARGIN:.2f} {y:.2f} Tm (".encode() + _escape(raw) + b") Tj")
            ops.append(b"ET EMC")
            self.pages[page].append(b"\n".join(ops))
            struck = [(raw, y) for raw, y, number in chunk if 0 <= strike_from <= number]
            if struck:
                # The strike-through is decoration: the text itself says it was corrected.
                marks = [b"/Artifact BMC 0.4 w"]
                for raw, y in struck:
                    w = self.text_width(raw, size)
                    mid = y + size * 0.3
                    marks.append(
                        f"{MARGIN:.2f} {mid:.2f} m {MARGIN + w:.2f} {mid:.2f} l S".encode()
                    )
                marks.append(b"EMC")
                self.pages[page].append(b"\n".join(marks))
            chunk.clear()

        for number, line in enumerate(lines):
            if self.y - leading < bottom:
                flush()
                self._new_page()
            self.y -= leading
            chunk.append((line, self.y, number))
        flush()
        self.y -= gap

    def heading(self, text: str, size: float = 15) -> None:
        self._block("H1", self.wrap(text, size, PAGE_W - 2 * MARGIN), size, 6, -1)

    def paragraph(self, text: str, size: float = 8, *, strike_from: int = -1) -> None:
        """A paragraph; with ``strike_from`` ≥ 0, its lines from that one on are struck
        through (a corrected log entry: the text also says so, the line is decoration)."""
        lines = self.wrap(text, size, PAGE_W - 2 * MARGIN)
        self._block("P", lines, size, 3, strike_from)

    def paragraphs(self, texts: Iterable[str], size: float = 8) -> None:
        for text in texts:
            self.paragraph(text, size)

    # ---- the file -------------------------------------------------------------------------
    def render(self) -> bytes:
        return _Writer(self).write()


class _Writer:
    def __init__(self, doc: TextPdf) -> None:
        self.doc = doc
        self.objects: list[bytes | None] = [None]  # 1-based object numbers

    def reserve(self) -> int:
        self.objects.append(None)
        return len(self.objects) - 1

    def set(self, number: int, body: bytes) -> None:
        self.objects[number] = body

    def add(self, body: bytes) -> int:
        number = self.reserve()
        self.set(number, body)
        return number

    def stream(self, data: bytes, extra: bytes = b"", *, compress: bool = True) -> int:
        if compress:
            data = zlib.compress(data, 6)
            extra += b" /Filter /FlateDecode"
        return self.add(
            b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"
        )

    def write(self) -> bytes:
        doc = self.doc
        catalog, pages_root, struct_root, document_elem = (self.reserve() for _ in range(4))
        font = self._font()
        page_ids = [self.reserve() for _ in doc.pages]
        total = len(doc.pages)
        for index, ops in enumerate(doc.pages):
            content = b"\n".join(ops) + b"\n" + self._footer(index, total)
            stream_id = self.stream(content)
            self.set(
                page_ids[index],
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> /StructParents %d /Tabs /S >>"
                % (pages_root, PAGE_W, PAGE_H, stream_id, font, index),
            )
        self.set(
            pages_root,
            b"<< /Type /Pages /Kids [%s] /Count %d >>"
            % (b" ".join(b"%d 0 R" % p for p in page_ids), total),
        )
        block_ids = []
        for block in doc.blocks:
            kids = b" ".join(
                b"<< /Type /MCR /Pg %d 0 R /MCID %d >>" % (page_ids[page], mcid)
                for page, mcid in block.marks
            )
            block_ids.append(
                self.add(
                    b"<< /Type /StructElem /S /%s /P %d 0 R /K [%s] >>"
                    % (block.tag.encode(), document_elem, kids)
                )
            )
        self.set(
            document_elem,
            b"<< /Type /StructElem /S /Document /P %d 0 R /K [%s] >>"
            % (struct_root, b" ".join(b"%d 0 R" % b for b in block_ids)),
        )
        nums = []
        for index, owners in enumerate(doc.page_mcids):
            refs = b" ".join(b"%d 0 R" % block_ids[owner] for owner in owners)
            nums.append(b"%d [%s]" % (index, refs))
        parent_tree = self.add(b"<< /Nums [%s] >>" % b" ".join(nums))
        self.set(
            struct_root,
            b"<< /Type /StructTreeRoot /K [%d 0 R] /ParentTree %d 0 R /ParentTreeNextKey %d >>"
            % (document_elem, parent_tree, total),
        )
        metadata = self.stream(self._xmp(), b" /Type /Metadata /Subtype /XML", compress=False)
        info = self.add(b"<< /Title %s /Producer (Carbet) >>" % _pdf_string(doc.title))
        self.set(
            catalog,
            b"<< /Type /Catalog /Pages %d 0 R /StructTreeRoot %d 0 R /MarkInfo << /Marked true >> "
            b"/Lang %s /ViewerPreferences << /DisplayDocTitle true >> /Metadata %d 0 R >>"
            % (pages_root, struct_root, _pdf_string(doc.lang), metadata),
        )
        return self._serialise(catalog, info)

    def _font(self) -> int:
        f = self.doc.font
        file_id = self.stream(f.data, b" /Length1 %d" % len(f.data))
        descriptor = self.add(
            b"<< /Type /FontDescriptor /FontName /CRBTAA+DejaVuSans /Flags 32 "
            b"/FontBBox [%d %d %d %d] "
            b"/ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>"
            % (*f.bbox, f.ascent, f.descent, f.cap_height, file_id)
        )
        widths = b" ".join(b"%d" % w for w in f.widths)
        return self.add(
            b"<< /Type /Font /Subtype /TrueType /BaseFont /CRBTAA+DejaVuSans /FirstChar 32 "
            b"/LastChar 255 /Widths [%s] /Encoding /WinAnsiEncoding /FontDescriptor %d 0 R >>"
            % (widths, descriptor)
        )

    def _footer(self, index: int, total: int) -> bytes:
        text = (
            f"{self.doc.footer} · {index + 1} / {total}"
            if self.doc.footer
            else f"{index + 1} / {total}"
        )
        raw = _encode(text)
        return (
            b"/Artifact << /Type /Pagination >> BDC BT /F1 7 Tf 0.33 g 1 0 0 1 %.2f %.2f Tm ("
            % (MARGIN, MARGIN - 8)
            + _escape(raw)
            + b") Tj ET EMC"
        )

    def _xmp(self) -> bytes:
        from xml.sax.saxutils import escape

        title = escape(self.doc.title)
        return (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">'
            f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
            "<pdfuaid:part>1</pdfuaid:part></rdf:Description></rdf:RDF></x:xmpmeta>"
            '<?xpacket end="w"?>'
        ).encode()

    def _serialise(self, catalog: int, info: int) -> bytes:
        out = io.BytesIO()
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = [0] * len(self.objects)
        for number in range(1, len(self.objects)):
            body = self.objects[number]
            if body is None:
                raise RuntimeError(f"PDF object {number} was reserved but never written")
            offsets[number] = out.tell()
            out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % len(self.objects))
        for number in range(1, len(self.objects)):
            out.write(b"%010d 00000 n \n" % offsets[number])
        out.write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self.objects), catalog, info, xref)
        )
        return out.getvalue()
