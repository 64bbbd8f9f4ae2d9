"""A small DOM of a rendered report (stdlib html.parser): enough to count rows, read attributes
and the text a reader sees. No browser; the browser tests are in test_browser.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta", "link", "br", "hr", "img", "input", "source", "col", "area", "base", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict
    children: list = field(default_factory=list)
    parent: "Node | None" = None

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list["Node"]:
        out = []
        for n in self.iter():
            if tag is not None and n.tag != tag:
                continue
            if all(_has(n.attrs.get(k.rstrip("_").replace("_", "-")), v) for k, v in attrs.items()):
                out.append(n)
        return out

    def find(self, tag: str | None = None, **attrs) -> "Node | None":
        found = self.find_all(tag, **attrs)
        return found[0] if found else None


def _has(value, wanted) -> bool:
    if value is None:
        return False
    if wanted is True:
        return True
    return wanted in value.split() if " " not in wanted else value == wanted


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.at = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, parent=self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_startendtag(self, tag, attrs):
        self.at.children.append(Node(tag, dict(attrs), parent=self.at))

    def handle_endtag(self, tag):
        n = self.at
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.at = n.parent

    def handle_data(self, data):
        self.at.children.append(data)


def parse(html: str) -> Node:
    b = _Builder()
    b.feed(html)
    b.close()
    return b.root


def table(doc: Node, name: str) -> Node:
    found = doc.find("div", class_="kr-table", data_table=name)
    assert found is not None, f"no table {name}"
    return found


def body_rows(box: Node) -> list[list[str]]:
    tbody = box.find("tbody")
    return [[td.text() for td in tr.find_all("td")] for tr in tbody.find_all("tr")]
