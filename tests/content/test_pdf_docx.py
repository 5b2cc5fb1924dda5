"""PDF and DOCX text extraction, on documents the tests write byte by byte.

PDFs are assembled here (objects, a cross-reference table and a trailer): Latin text in
Helvetica, other scripts through a Type0 font whose ToUnicode map is all a text extractor needs
(no glyphs are embedded, nothing is rendered). DOCX files are ZIPs written with ``zipfile``.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
import zlib
from collections.abc import Sequence

import pypdf
import pytest

from bastion.content.documents import (
    DocumentEncrypted,
    DocumentTooLarge,
    DocumentUnsafe,
    TextLimits,
    extract_text,
    sniff_document,
)
from bastion.errors import CorruptMedia

# --- writing PDFs -------------------------------------------------------------------------------


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _stream(body: bytes, *, compress: bool = False, extra: bytes = b"") -> bytes:
    if compress:
        body = zlib.compress(body, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(body), extra) + body + b"\nendstream"


def make_pdf(
    pages: Sequence[str],
    *,
    unicode_pages: Sequence[str] = (),
    links: Sequence[str] = (),
    info: dict[str, str] | None = None,
    raw_content: bytes | None = None,
) -> bytes:
    """A valid PDF: one page per string (Helvetica), then one per ``unicode_pages`` string.

    ``raw_content`` replaces the first page's content stream object (e.g. a zip bomb).
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the page tree number is known
    tree = add(b"")
    helvetica = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    # A Type0 font mapping CID n to the n-th distinct character of the Unicode pages.
    chars = sorted({char for text in unicode_pages for char in text})
    cid = {char: index + 1 for index, char in enumerate(chars)}
    cmap_lines = b"".join(
        b"<%04X> <%s>\n" % (cid[char], char.encode("utf-16-be").hex().upper().encode())
        for char in chars
    )
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        b"%d beginbfchar\n" % len(chars) + cmap_lines + b"endbfchar\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    to_unicode = add(_stream(cmap))
    descendant = add(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /NotoSans "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor << /Type /FontDescriptor /FontName /NotoSans /Flags 4 "
        b"/FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 "
        b"/StemV 80 >> /DW 600 >>"
    )
    type0 = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /NotoSans /Encoding /Identity-H "
        b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (descendant, to_unicode)
    )
    annotations = [
        add(
            b"<< /Type /Annot /Subtype /Link /Rect [72 600 300 620] /Border [0 0 0] "
            b"/A << /S /URI /URI " + _pdf_string(url) + b" >> >>"
        )
        for url in links
    ]
    page_numbers = []
    contents: list[bytes] = []
    for text in pages:
        lines = b"".join(b"%s Tj T* " % _pdf_string(line) for line in text.split("\n"))
        contents.append(b"BT /F1 12 Tf 14 TL 72 720 Td " + lines + b"ET")
    for text in unicode_pages:
        # Content streams hold glyphs in visual order: right-to-left text is stored reversed.
        visual = text[::-1] if any("\u0600" <= char <= "\u06ff" for char in text) else text
        glyphs = "".join(f"{cid[char]:04X}" for char in visual).encode()
        contents.append(b"BT /F2 12 Tf 72 720 Td <" + glyphs + b"> Tj ET")
    for index, content in enumerate(contents):
        body = raw_content if index == 0 and raw_content is not None else _stream(content)
        stream = add(body)
        annots = b""
        if index == 0 and annotations:
            annots = b" /Annots [" + b" ".join(b"%d 0 R" % n for n in annotations) + b"]"
        page_numbers.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >>%s >>"
                % (tree, stream, helvetica, type0, annots)
            )
        )
    kids = b" ".join(b"%d 0 R" % n for n in page_numbers)
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R /Lang (en-GB) >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_numbers))
    info_ref = b""
    if info:
        entries = b" ".join(b"/%s %s" % (k.encode(), _pdf_string(v)) for k, v in info.items())
        info_ref = b" /Info %d 0 R" % add(b"<< " + entries + b" >>")

    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, info_ref, xref)
    )
    return out.getvalue()


def _encrypt(pdf: bytes, user_password: str, algorithm: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_text_pages_links_and_metadata() -> None:
    pdf = make_pdf(
        ["Join the movement now", "Second page text\nwith two lines"],
        unicode_pages=["انضموا إلى القافلة", "Вступайте в ряды", "हम जीतेंगे"],
        links=["https://t.me/example_channel", "http://example.org/a?b=c"],
        info={"Title": "Weekly Bulletin", "Author": "Media Office", "Creator": "Writer 1.0"},
    )
    assert sniff_document(pdf, "x.bin", None) == "pdf"
    result = extract_text(pdf, "pdf")
    assert "Join the movement now" in result.text
    assert "انضموا إلى القافلة" in result.text
    assert "Вступайте в ряды" in result.text
    assert "हम जीतेंगे" in result.text
    assert result.links == ["https://t.me/example_channel", "http://example.org/a?b=c"]
    assert result.metadata["title"] == "Weekly Bulletin"
    assert result.metadata["author"] == "Media Office"
    assert result.metadata["creator"] == "Writer 1.0"
    assert result.metadata["language"] == "en-GB"
    assert result.metadata["pages"] == "5"
    wheres = [part.where for part in result.parts]
    assert wheres[:2] == ["title", "metadata:author"]
    assert "page 1" in wheres and "page 5" in wheres
    for part in result.parts:
        assert result.text[part.start : part.start + part.length].strip()
    page2 = next(part for part in result.parts if part.where == "page 2")
    assert "Second page" in result.text[page2.start : page2.start + page2.length]
    assert not result.truncated


def test_pdf_page_cap_and_character_cap_truncate() -> None:
    pdf = make_pdf([f"page number {n}" for n in range(1, 8)])
    capped = extract_text(pdf, "pdf", TextLimits(max_pages=3))
    assert capped.truncated
    assert "page number 3" in capped.text and "page number 4" not in capped.text
    assert any("first 3 of 7 pages" in note for note in capped.notes)

    short = extract_text(pdf, "pdf", TextLimits(max_chars=30))
    assert short.truncated and len(short.text) == 30


def test_pdf_time_budget_stops_between_pages() -> None:
    pdf = make_pdf(["one", "two", "three"])
    result = extract_text(pdf, "pdf", TextLimits(max_seconds=0.0))
    assert result.truncated
    assert any("time budget" in note for note in result.notes)


def test_pdf_encrypted_with_empty_user_password_opens() -> None:
    pdf = _encrypt(make_pdf(["restricted but readable"]), "", "AES-128")
    result = extract_text(pdf, "pdf")
    assert "restricted but readable" in result.text
    assert result.metadata["encrypted"] == "true"


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_pdf_needing_a_password_is_document_encrypted(algorithm: str) -> None:
    pdf = _encrypt(make_pdf(["secret text"]), "letmein", algorithm)
    with pytest.raises(DocumentEncrypted) as caught:
        extract_text(pdf, "pdf")
    assert caught.value.code == "document_encrypted"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + bytes(range(256)) * 20,
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog",
        b"%PDF-",
    ],
    ids=["garbage", "cut-off", "header-only"],
)
def test_garbage_pdf_is_media_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptMedia) as caught:
        extract_text(data, "pdf")
    assert caught.value.code == "media_corrupt"


def test_truncated_real_pdf_is_corrupt_or_partial_never_a_traceback() -> None:
    pdf = make_pdf(["alpha beta", "gamma delta"])
    for cut in range(20, len(pdf), max(1, len(pdf) // 40)):
        with contextlib.suppress(CorruptMedia):
            extract_text(pdf[:cut], "pdf")


def test_pdf_zip_bomb_stream_is_refused() -> None:
    # 20 MB of text operators compresses to ~20 KB; the stream cap is 1 MB.
    bomb = b"BT /F1 12 Tf 72 720 Td (x) Tj ET\n" + b" " * 20_000_000
    pdf = make_pdf(["placeholder"], raw_content=_stream(bomb, compress=True))
    assert len(pdf) < 100_000
    with pytest.raises(DocumentTooLarge) as caught:
        extract_text(pdf, "pdf", TextLimits(max_stream_bytes=1_000_000))
    assert caught.value.code == "document_too_large"


def test_pdf_limits_are_restored_after_extraction() -> None:
    before = pypdf.get_configuration()
    extract_text(make_pdf(["x"]), "pdf", TextLimits(max_stream_bytes=1234))
    assert pypdf.get_configuration() == before


# --- writing DOCX files ------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def _paragraph(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def document_xml(body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}"><w:body>{body}</w:body></w:document>'
    )


def make_docx(members: dict[str, str | bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def rich_docx() -> bytes:
    body = (
        _paragraph("Hello world from the document")
        + _paragraph("مرحبا بالعالم")
        + _paragraph("Привет, мир")
        + _paragraph("नमस्ते दुनिया")
        + '<w:p><w:hyperlink r:id="rId7"><w:r><w:t>our channel</w:t></w:r></w:hyperlink>'
        + "<w:r><w:tab/><w:t>tabbed</w:t><w:br/><w:t>broken</w:t></w:r></w:p>"
        + "<w:p><w:r><w:delText>deleted words</w:delText></w:r></w:p>"
        + "<w:tbl><w:tr><w:tc>"
        + _paragraph("in a table cell")
        + "</w:tc></w:tr></w:tbl>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/hyperlink" Target="https://t.me/some_channel" TargetMode="External"/>'
        '<Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'
    )
    header = f'<w:hdr xmlns:w="{W_NS}">{_paragraph("Header line")}</w:hdr>'
    footnotes = f'<w:footnotes xmlns:w="{W_NS}"><w:footnote>{_paragraph("A footnote")}'
    footnotes += "</w:footnote></w:footnotes>"
    core = (
        '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title>Statement No. 4</dc:title><dc:creator>Media Office</dc:creator>"
        "<dc:language>ar-SA</dc:language></cp:coreProperties>"
    )
    return make_docx(
        {
            "word/document.xml": document_xml(body),
            "word/_rels/document.xml.rels": rels,
            "word/header1.xml": header,
            "word/footnotes.xml": footnotes,
            "docProps/core.xml": core,
        }
    )


# --- DOCX ---------------------------------------------------------------------------------------


def test_docx_text_links_and_properties() -> None:
    data = rich_docx()
    assert sniff_document(data, None, None) == "docx"
    result = extract_text(data, "docx")
    for expected in (
        "Hello world from the document",
        "مرحبا بالعالم",
        "Привет, мир",
        "नमस्ते दुनिया",
        "our channel\ttabbed\nbroken",
        "in a table cell",
        "Header line",
        "A footnote",
        "Statement No. 4",
    ):
        assert expected in result.text
    assert "deleted words" not in result.text
    assert result.links == ["https://t.me/some_channel"]
    assert result.metadata["title"] == "Statement No. 4"
    assert result.metadata["author"] == "Media Office"
    assert result.metadata["language"] == "ar-SA"
    wheres = [part.where for part in result.parts]
    assert wheres[:2] == ["title", "metadata:author"]
    assert "paragraph 1" in wheres and "header 1 paragraph 1" in wheres
    assert "footnotes paragraph 1" in wheres
    first = next(part for part in result.parts if part.where == "paragraph 2")
    assert result.text[first.start : first.start + first.length] == "مرحبا بالعالم"


def test_docx_character_cap_truncates() -> None:
    body = "".join(_paragraph(f"paragraph text {n}") for n in range(200))
    data = make_docx({"word/document.xml": document_xml(body)})
    result = extract_text(data, "docx", TextLimits(max_chars=100))
    assert result.truncated and len(result.text) == 100


def test_docx_zip_bomb_member_is_refused_before_inflating() -> None:
    bomb = document_xml(_paragraph("x")) + " " * 30_000_000  # ~30 KB compressed
    data = make_docx({"word/document.xml": bomb})
    with pytest.raises(DocumentTooLarge) as caught:
        extract_text(data, "docx")
    assert caught.value.code == "document_too_large"


def test_docx_bomb_in_a_member_never_read_is_still_refused() -> None:
    data = make_docx(
        {"word/document.xml": document_xml(_paragraph("ok")), "word/media/x.bin": bytes(5_000_000)}
    )
    with pytest.raises(DocumentTooLarge):
        extract_text(data, "docx")


def test_docx_lying_declared_size_is_caught_while_reading() -> None:
    # The central directory says 100 bytes; the member inflates to 2 MB. Reading stops at the
    # cap either way, so a lie cannot exhaust memory.
    real = document_xml(_paragraph("y" * 2_000_000)).encode()
    data = bytearray(make_docx({"word/document.xml": real}))
    names = data.find(b"PK\x01\x02")
    while names != -1:
        name_len = int.from_bytes(data[names + 28 : names + 30], "little")
        if data[names + 46 : names + 46 + name_len] == b"word/document.xml":
            data[names + 24 : names + 28] = (100).to_bytes(4, "little")
        names = data.find(b"PK\x01\x02", names + 4)
    with pytest.raises((DocumentTooLarge, CorruptMedia)):
        extract_text(bytes(data), "docx", TextLimits(max_uncompressed_bytes=1_000_000))


def test_docx_total_size_cap() -> None:
    body = _paragraph("z" * 600_000)
    data = make_docx(
        {"word/document.xml": document_xml(body), "word/footnotes.xml": document_xml(body)}
    )
    with pytest.raises(DocumentTooLarge):
        extract_text(data, "docx", TextLimits(max_uncompressed_bytes=1_000_000))


def test_docx_billion_laughs_is_document_unsafe() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
            for n in range(1, 10)
        )
        + f']><w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>'
        + "</w:body></w:document>"
    )
    data = make_docx({"word/document.xml": laughs})
    with pytest.raises(DocumentUnsafe) as caught:
        extract_text(data, "docx")
    assert caught.value.code == "document_unsafe"


def test_docx_external_entity_is_document_unsafe() -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<w:document xmlns:w="{W_NS}"><w:body>{_paragraph("&x;")}</w:body></w:document>'
    )
    with pytest.raises(DocumentUnsafe):
        extract_text(make_docx({"word/document.xml": xxe}), "docx")


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + bytes(200),
        make_docx({"word/document.xml": "<w:document><w:body><w:p>"}),
        make_docx({"word/other.xml": "<x/>"}),
    ],
    ids=["not-a-zip", "bad-xml", "no-main-part"],
)
def test_broken_docx_is_media_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptMedia):
        extract_text(data, "docx")


def test_cut_off_docx_never_tracebacks() -> None:
    data = rich_docx()
    for cut in range(0, len(data), max(1, len(data) // 30)):
        with contextlib.suppress(CorruptMedia):
            extract_text(data[:cut] or b"x", "docx")
