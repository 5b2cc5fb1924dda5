"""The visible text, links and metadata of an HTML page, with the standard library's parser.

``html.parser`` is forgiving by design (it never raises on malformed markup, unclosed tags or
stray ``<``), decodes entities, and keeps no tree: this module keeps no stack either, only
counters, so a page nested a million levels deep costs no more than a flat one.

What counts as text: everything a reader sees (``script``, ``style``, ``noscript`` and
``template`` contents are dropped), plus what a reader can hover or what a screen reader says:
image ``alt``/``title`` text, and the page's title and ``description``/``og:*`` meta tags, which
are where a share card's caption lives. Block elements end a paragraph, so parts point at
something a reviewer can find.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bastion.content.documents import ExtractedText, TextBuilder, TextLimits
from bastion.content.text_decode import charset_from_meta, decode_text

_SKIPPED = frozenset({"script", "style", "noscript", "template"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div",
        "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
        "td", "th", "tr", "ul", "body", "html", "head", "select", "option", "iframe",
    }
)  # fmt: skip
# <meta name=...> / <meta property=...> values that are text a person reads.
_TEXT_META = frozenset(
    {
        "description", "keywords", "author", "og:title", "og:description", "og:site_name",
        "twitter:title", "twitter:description",
    }
)  # fmt: skip
_LINK_META = frozenset({"og:url", "og:image", "og:video", "twitter:image"})
# A "<" that does not reach a ">" before the next "<" cannot start a tag. html.parser retries
# such a "<" against the whole rest of the page (quadratic: 200 KB of "<a" takes a minute on
# CPython 3.11), so it is escaped first. The lookahead stops at the next "<" or ">", so the scan
# is linear. Comments are removed beforehand (nobody sees them, and the parser's idea of where
# one ends differs between Python versions and from browsers'); CDATA sections and comments left
# open after the last "-->" are escaped for the same reason.
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_LONE_LT = re.compile(r"<!\[|<!--|<(?![^<>]*>)")


def _defuse(markup: str) -> str:
    """The markup without comments and with every "<" that cannot open a tag as ``&lt;``."""
    # Only up to the last "-->": a "<!--" after it would scan to the end, once per "<!--".
    last_close = markup.rfind("-->") + 3 if "-->" in markup else 0
    markup = _COMMENT.sub(" ", markup[:last_close]) + markup[last_close:]
    return _LONE_LT.sub(lambda match: "&lt;" + match.group(0)[1:], markup)


# A paragraph being collected flushes past this many characters, so one giant text node
# cannot grow a list of fragments without bound.
_MAX_PARAGRAPH_CHARS = 100_000


class _PageParser(HTMLParser):
    def __init__(self, builder: TextBuilder) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = builder
        self.skip_depth = 0
        self.in_title = False
        self.title: list[str] = []
        self.paragraph: list[str] = []
        self.paragraph_chars = 0
        self.paragraphs = 0
        self.images = 0

    # -- text --------------------------------------------------------------------------------

    def flush(self) -> None:
        if self.paragraph:
            text = " ".join("".join(self.paragraph).split())
            self.paragraph = []
            self.paragraph_chars = 0
            if text:
                self.paragraphs += 1
                self.builder.add(f"paragraph {self.paragraphs}", text)

    def handle_data(self, data: str) -> None:
        if self.skip_depth or self.builder.truncated:
            return
        if self.in_title:
            if sum(len(piece) for piece in self.title) < _MAX_PARAGRAPH_CHARS:
                self.title.append(data)
            return
        self.paragraph.append(data)
        self.paragraph_chars += len(data)
        if self.paragraph_chars > _MAX_PARAGRAPH_CHARS:
            self.flush()

    # -- tags --------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip_depth += 1
            return
        values = {name: value for name, value in attrs if value is not None}
        if tag == "title":
            self.in_title = True
        elif tag == "html" and values.get("lang"):
            self.builder.metadata.setdefault("language", values["lang"].strip()[:64])
        elif tag == "meta":
            self._meta(values)
        elif tag in {"a", "area"} and "href" in values:
            self.builder.link(values["href"])
        elif tag == "img" and not self.skip_depth:
            self._image(values)
        if tag in _BLOCKS:
            self.flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <img/>, <meta/>: the same as the start tag, but never opens a skipped block.
        if tag in _SKIPPED:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in {"body", "html"}:
            # An unclosed <noscript> must not swallow the rest of the page.
            self.skip_depth = 0
        if tag == "title":
            self._end_title()
        elif tag in _BLOCKS:
            self.flush()

    def _end_title(self) -> None:
        if self.in_title:
            self.in_title = False
            title = " ".join("".join(self.title).split())
            if title:
                self.builder.meta("title", title)

    def _meta(self, values: dict[str, str]) -> None:
        key = (values.get("name") or values.get("property") or "").strip().lower()
        content = values.get("content", "")
        equiv = values.get("http-equiv", "").strip().lower()
        if key in _TEXT_META:
            self.builder.meta(key, " ".join(content.split()))
        elif key in _LINK_META:
            self.builder.link(content)
        elif equiv == "content-language" and content:
            self.builder.metadata.setdefault("language", content.strip()[:64])
        elif equiv == "refresh" and "url=" in content.lower():
            self.builder.link(content[content.lower().index("url=") + 4 :].strip("'\" "))

    def _image(self, values: dict[str, str]) -> None:
        said = []
        for name in ("alt", "title"):
            text = " ".join(values.get(name, "").split())
            if text and text not in said:
                said.append(text)
        if said:
            self.flush()
            self.images += 1
            self.builder.add(f"image {self.images}", " / ".join(said))

    def finish(self) -> None:
        self.close()
        self._end_title()
        self.flush()


def extract_html(data: bytes, limits: TextLimits, *, charset: str | None = None) -> ExtractedText:
    """Text, links and metadata of an HTML page; never raises on malformed markup."""
    declared = charset or charset_from_meta(data)
    # Markup outweighs text, so the page itself may be longer than the text cap allows.
    decoded = decode_text(data, declared, max_chars=max(limits.max_chars * 10, 1_000_000))
    builder = TextBuilder(limits.max_chars)
    builder.metadata["encoding"] = decoded.encoding
    builder.notes.extend(decoded.notes)
    parser = _PageParser(builder)
    try:
        parser.feed(_defuse(decoded.text))
        parser.finish()
    except Exception as exc:  # html.parser asserts on a few malformed declarations
        parser.flush()
        builder.notes.append(f"the markup could not be parsed to the end: {exc!r}"[:300])
    result = builder.result()
    result.truncated = result.truncated or decoded.truncated
    return result
