"""Train page: fold new events into the active run without a full retrain.

One expander: upload a CSV of new events (and, optionally, catalog rows of new items), press
the button, and ``recsys.service.incremental.refresh`` saves the grown dataset and the updated
run, which become the active ones. The table says per model whether it was updated
incrementally or refitted, how, and in how many seconds.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recsys.errors import RecsysError
from recsys.service.incremental import refresh
from ui import labels, state
from ui.errors import error_text, message_text
from ui.i18n import t

CSV_TYPES = ["csv", "txt", "tsv"]
_REPORT_KEY = "train_update_report"


def _note_text(note: object) -> str:
    """A model's update note in the interface language (a full retrain's reason too)."""
    params = getattr(note, "params", None) or {}
    if getattr(note, "code", None) == "update.retrained" and "reason" in params:
        return t("msg.update.retrained", reason=message_text(params["reason"]))
    return message_text(note)


def _report_table(models: pd.DataFrame) -> pd.DataFrame:
    """One row per model (all stages): how it was updated, the full-stage note, seconds."""
    per = models.groupby("model", sort=False).agg(
        incremental=("incremental", "all"), note=("note", "last"), seconds=("seconds", "sum")
    )
    return pd.DataFrame(
        {
            t("update.col_model"): [labels.model_label(str(m)) for m in per.index],
            t("update.col_how"): [
                t("update.incremental") if ok else t("update.retrained") for ok in per.incremental
            ],
            t("update.col_note"): [_note_text(n) for n in per.note],
            t("update.col_seconds"): per.seconds.round(2).to_numpy(),
        }
    )


def update_panel(run_id: str | None) -> None:
    """The "add new events" expander for the active run ``run_id`` (nothing without a run)."""
    if not run_id:
        return
    with st.expander(t("update.title"), expanded=_REPORT_KEY in st.session_state):
        st.caption(t("update.intro"))
        left, right = st.columns(2)
        events = left.file_uploader(t("update.events"), type=CSV_TYPES, key="tr_up_events")
        items = right.file_uploader(t("update.catalog"), type=CSV_TYPES, key="tr_up_items")
        go = st.button(t("update.button"), disabled=events is None, key="tr_up_go")
        if go and events is not None:
            try:
                with st.spinner(t("update.running")):
                    done = refresh(
                        state.get_workspace(),
                        run_id,
                        events.getvalue(),
                        file_name=events.name,
                        catalog=items.getvalue() if items is not None else None,
                        catalog_name=items.name if items is not None else None,
                    )
            except RecsysError as err:  # a bad file: a plain message, the run stays as it was
                st.error(t("update.failed", err=error_text(err)))
                return
            state.set_active_dataset(done.appended.dataset_id)
            state.set_run(done.run, done.run_id)
            st.session_state[_REPORT_KEY] = {
                "events": done.appended.n_events,
                "users": done.appended.new_users,
                "items": done.appended.new_items,
                "seconds": done.report.seconds["total"],
                "table": _report_table(done.report.models),
                "warnings": list(done.appended.warnings),
            }
            st.rerun()
        report = st.session_state.get(_REPORT_KEY)
        if report:
            st.success(
                t(
                    "update.done",
                    events=report["events"],
                    users=report["users"],
                    items=report["items"],
                    s=report["seconds"],
                )
            )
            for warning in report["warnings"]:
                st.caption(warning)
            st.dataframe(report["table"], hide_index=True)


__all__ = ["update_panel"]
