"""Fusion Studio: the Streamlit entry point.

Run with ``streamlit run app.py`` (the project is installed in editable mode, so ``recsys`` and
``ui`` import without path tricks). Configures logging, then draws the frame (page config,
session defaults, sidebar, ``st.navigation`` over the pages in ``pages/``) and runs the chosen
page inside it (``ui.frame``): an unexpected error is logged with its traceback and an error id,
and the user sees that id.
"""

from __future__ import annotations

import logging
import sys

from ui import frame

# Once per process (basicConfig does nothing when the root logger already has a handler);
# every module logs through ``logging.getLogger(__name__)``.
logging.basicConfig(
    stream=sys.stderr,
    level=logging.WARNING,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
for package in ("ui", "recsys"):
    logging.getLogger(package).setLevel(logging.INFO)

frame.run()
