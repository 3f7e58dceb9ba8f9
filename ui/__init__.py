"""The Streamlit interface's shared parts; the page files in ``pages/`` import from here.

``state`` (session, workspace, active dataset and run), ``nav`` (page table, navigation,
guards), ``i18n`` (``t``), ``errors`` (``show_error``), ``labels``, ``charts``, ``tables``,
``rules``, and the pieces of the two largest pages (``data_*``, ``lab_*``). Presentation only:
the recommendation logic lives in ``recsys/``, which never imports Streamlit.
"""
