"""Fusion Studio's recommendation library: ingest, models, fusion, re-ranking, evaluation.

Never imports streamlit; the pages in ``pages/`` and the CLI (``python -m recsys``) are thin
layers over it.
"""

__version__ = "0.1.0"
