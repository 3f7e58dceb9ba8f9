"""A running indicator for interactive islands: shown after 300 ms, controls wait meanwhile.

``busy(containers, text)`` draws, first thing in a (fragment) run, a style that makes the keyed
containers ignore clicks (the pointer shows "busy") and a small "Updating…" badge that only
fades in when the run lasts longer than 300 ms; the end of the run removes both. A click on a
control while the numbers are being recomputed is therefore not lost half-way: the control
simply waits until the run is over.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import streamlit as st

#: A run shorter than this shows no indicator (it would only flicker).
SHOW_AFTER_MS = 300


def busy_html(containers: Sequence[str], text: str, free: Sequence[str] = ()) -> str:
    """The style + badge markup for the keyed ``containers`` (``st.container(key=...)``).

    ``free``: keyed elements inside them that stay clickable (a Stop button).
    """
    wait = ", ".join(f".st-key-{c}" for c in containers)
    blocked = ", ".join(f".st-key-{c} *" for c in containers)
    freed = ", ".join(f".st-key-{c}, .st-key-{c} *" for c in free)
    allow = f"{freed} {{ pointer-events: auto !important; cursor: pointer; }}" if free else ""
    return f"""<style>
{wait} {{ cursor: progress; }}
{blocked} {{ pointer-events: none !important; }}
{allow}
@keyframes fs-busy-in {{ to {{ opacity: 1; }} }}
.fs-busy {{
  position: fixed; top: 3.6rem; right: 1.5rem; z-index: 1000; opacity: 0;
  animation: fs-busy-in 0.15s ease-out {SHOW_AFTER_MS}ms forwards;
  background: #1e3a8a; color: #fff; padding: 0.35rem 0.8rem; border-radius: 999px;
  font-size: 0.85rem; box-shadow: 0 2px 8px rgba(0,0,0,.2);
}}
.fs-busy::before {{
  content: ""; display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.45em;
  border: 2px solid #fff; border-right-color: transparent; border-radius: 50%;
  vertical-align: -0.1em; animation: fs-spin 0.8s linear infinite;
}}
@keyframes fs-spin {{ to {{ transform: rotate(360deg); }} }}
</style><div class="fs-busy" data-testid="fs-busy">{text}</div>"""


@contextmanager
def busy(containers: Sequence[str], text: str, free: Sequence[str] = ()) -> Iterator[None]:
    """Show the indicator for the duration of the block (removed even when it fails)."""
    slot = st.empty()
    slot.html(busy_html(containers, text, free))
    try:
        yield
    finally:
        slot.empty()
