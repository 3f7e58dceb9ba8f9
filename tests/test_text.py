"""``ui.text``: user-supplied strings escaped for Markdown and for Plotly."""

from __future__ import annotations

import re

from ui.text import WORD_JOINER, md, plot_text, plot_texts


def _shown(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def test_markdown_escapes_keep_the_text():
    hostile = [
        "![](http://host/px.png)",
        "[link](https://host/x)",
        ":red[red] :material/warning: $x^2$",
        "back`tick` **bold** _em_ <a href='x'>a</a> # heading",
        "www.host.com mail@host.com",
        "Plain name 2024",
        "商品 · 名称",
    ]
    for text in hostile:
        out = md(text)
        assert _shown(out) == text
        assert not re.search(r"(?<!\\)[`*_\[\]()<>#$:!]", out), out  # every mark is escaped
        assert "http://" not in out.replace("\\", "") and "www." not in out.replace("\\", "")
    assert md("Plain name 2024") == "Plain name 2024"
    assert md("a\nb\r\nc\td") == "a b c d"  # one line: no new paragraph, list or code block
    assert md(None) == "" and md(float("nan")) == ""
    assert md(":smile:") == "\\:" + WORD_JOINER + "smile\\:"


def test_plot_text_is_html_escaped():
    assert plot_text('<a href="http://x">c</a>') == '&lt;a href="http://x"&gt;c&lt;/a&gt;'
    assert plot_text("A & B\nC") == "A &amp; B C"
    assert plot_texts(["<b>x</b>", 3]) == ["&lt;b&gt;x&lt;/b&gt;", "3"]
