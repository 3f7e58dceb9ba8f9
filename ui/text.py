"""Text stays text: the one place that escapes user-supplied strings for display.

Streamlit renders Markdown (with colour directives, LaTeX, emoji shortcodes and Material icons)
in ``st.markdown``, captions, alerts, titles, toasts and widget labels; Plotly renders a subset
of HTML (``<a href>``, ``<b>``, ``<br>`` ...) in tick labels, hover text and legends. A product
title, category, brand, file name, dataset, preset or rule name comes from the user's files and
must reach the screen exactly as written, never as markup: no image fetched, no link, no colour,
no formula.

* ``md(value)`` for anything Streamlit renders as Markdown (also the values passed into a
  translated text, ``t(key, name=md(name))``, that is shown as Markdown).
* ``plot_text(value)`` (and ``plot_texts``) for Plotly: axis categories, hover and tick text.

Plain-text places need neither: ``st.dataframe`` cells, selectbox options (``format_func``),
``st.code``, ``st.json`` and downloaded files.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable
from typing import Any

#: Every ASCII punctuation character: CommonMark lets each be backslash-escaped, which turns
#: off emphasis, links and images, code spans, HTML, autolinks (``http\:\/\/``, ``www\.``),
#: Streamlit's ``:color[...]`` directives and ``:material/...:`` icons, and ``$`` LaTeX.
_MD_ESCAPE = re.compile("([" + re.escape(string.punctuation) + "])")
#: Line breaks and tabs: a new paragraph, a list or a code block in Markdown.
_BREAKS = re.compile(r"[\r\n\t\f\v\u2028\u2029]+")
#: An emoji shortcode (``:smile:``) survives backslash escapes (Streamlit replaces shortcodes in
#: the parsed text), so a word joiner (U+2060, invisible) goes after its opening colon.
#: Copied text may hold these invisible joiners; what is shown is exactly the user's text.
_SHORTCODE = re.compile(r":(?=[A-Za-z0-9_+\-]+:)")
#: Streamlit (GFM) turns ``http://``, ``https://``, ``www.`` and ``name@host.tld`` in the parsed
#: text into links whatever their escapes; a word joiner breaks each pattern.
_AUTOLINK = re.compile(r"(?i)(?<=https:)(?=//)|(?<=http:)(?=//)|(?<=www)(?=\.)|(?<=@)(?=[-\w])")
WORD_JOINER = "\u2060"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    return str(value)


def md(value: Any) -> str:
    """``value`` as Markdown that renders as exactly its text, on one line.

    An image such as ``![](http://host/px.png)`` comes out with every punctuation mark
    backslash-escaped, so it shows as those characters and nothing is fetched.
    """
    text = _BREAKS.sub(" ", _as_text(value))
    text = _SHORTCODE.sub(":" + WORD_JOINER, text)
    text = _AUTOLINK.sub(WORD_JOINER, text)
    return _MD_ESCAPE.sub(r"\\\1", text)


def plot_text(value: Any) -> str:
    """``value`` as Plotly text (tick labels, hover text, legend): HTML special characters as
    entities, so ``<a href=...>`` is shown, not followed; line breaks as spaces."""
    return html.escape(_BREAKS.sub(" ", _as_text(value)), quote=False)


def plot_texts(values: Iterable[Any]) -> list[str]:
    """``plot_text`` of each value (a column of categories, titles ...)."""
    return [plot_text(v) for v in values]
