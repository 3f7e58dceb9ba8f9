"""Data page: the upload form (files, detected column roles, event weights, check and save)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from recsys.data.ingest import detect_roles, load_dataset, read_csv_bytes
from recsys.data.limits import release_memory
from recsys.data.privacy import find_personal_columns
from recsys.data.schema import DEFAULT_EVENT_WEIGHTS
from recsys.errors import DataValidationError, RecsysError
from recsys.service.entries import same_name
from recsys.service.pseudonyms import workspace_key
from ui import state
from ui.errors import error_text
from ui.i18n import t
from ui.labels import dataset_label
from ui.naming import NameChoice, choose_name
from ui.text import md

INTERACTION_ROLES = ("user", "item", "event", "rating", "quantity", "timestamp")
CATALOG_ROLES = ("item", "title", "description", "category", "brand", "price")
USER_ROLES = ("user",)
#: Roles whose guessed column is shown with a few values to check before saving.
CHECK_ROLES = ("title", "price", "timestamp", "category", "quantity", "rating")
CSV_TYPES = ["csv", "tsv", "txt"]
#: What the preview shows instead of a personal value.
MASK = "•••"


# ---------------------------------------------------------------------------- cached parsing
@st.cache_data(show_spinner=False, max_entries=16)
def _read_columns(
    digest: str, _data: bytes, file_name: str
) -> tuple[list[str], pd.DataFrame, str, str, list[tuple[str, str]]]:
    """Columns, a preview, encoding, delimiter and personal-data columns ``(column, kind)`` of
    an uploaded CSV (cached by content hash); the preview masks personal values."""
    raw = read_csv_bytes(_data, file_name)
    personal = [(c.column, c.kind) for c in find_personal_columns(raw.frame, file_name)]
    head = raw.frame.head(8).astype(str)  # the frame's columns are categorical
    for column, _ in personal:
        head[column] = MASK
    columns, encoding, delimiter = list(raw.frame.columns), raw.encoding, raw.delimiter
    del raw  # the whole file parsed: give it back before Check and save parses it again
    release_memory()
    return columns, head, encoding, delimiter, personal


@st.cache_data(show_spinner=False, max_entries=16)
def _detect(columns: tuple[str, ...], kind: str) -> dict[str, str]:
    return detect_roles(list(columns), kind)


def _read_error(file_name: str, err: RecsysError) -> str:
    """ "Could not read X: <reason>" without repeating the file name the library already gives."""
    text = error_text(err)
    prefix = md(f"file '{file_name}': ")
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return t("data.read_failed", file=md(file_name), err=text) + " " + t("data.kept_active")


# ---------------------------------------------------------------------------- widgets
def _file_roles(file, title_key: str, kind: str, roles) -> tuple[bytes, str, dict, list] | None:
    """Read an uploaded file's header, show its role pickers and preview.

    Returns ``(bytes, digest, role mapping, personal-data columns)``, or None after showing a
    read error. Personal values never reach the preview.
    """
    data = file.getvalue()
    digest = hashlib.sha1(data).hexdigest()
    try:
        columns, head, encoding, delimiter, personal = _read_columns(digest, data, file.name)
    except DataValidationError as err:
        st.error(_read_error(file.name, err))
        return None
    st.markdown(f"**{t(title_key)}** · {md(file.name)} · {md(encoding)} · `{delimiter!r}`")
    mapping = _role_pickers(kind, roles, columns, digest, head)
    st.dataframe(head, hide_index=True, height=180)
    return data, digest, mapping, personal


def _personal_choice(found: list[tuple[str, str]], digest: str) -> str:
    """Warn about personal-data columns (names and kinds only); the user picks keep/drop/hash."""
    if not found:
        return "keep"
    listed = ", ".join(f"'{c}' ({t(f'data.personal_kind.{k}')})" for c, k in found)
    st.warning(t("data.personal_found", columns=listed))
    return st.radio(
        t("data.personal_action"),
        ("hash", "drop", "keep"),
        format_func=lambda a: t(f"data.personal.{a}"),
        horizontal=True,
        key=f"data_personal_{digest[:10]}",
    )


def _samples(head: pd.DataFrame, column: str, n: int = 3) -> str:
    """A few distinct values of ``column`` from the (masked) preview, quoted, escaped."""
    values = head[column].dropna().astype(str).str.strip()
    shown = [v[:40] for v in values[values != ""].unique()[:n]]
    return ", ".join(f"“{md(v)}”" for v in shown) or "—"


def _role_pickers(
    kind: str, roles: tuple[str, ...], columns: list[str], digest: str, head: pd.DataFrame
) -> dict[str, str | None]:
    """One selectbox per role, defaulting to the detected column; returns the mapping.

    Under each role of ``CHECK_ROLES`` that holds a column, a few of its values and whether
    the column was guessed from its name, so a wrong guess is seen and changed before saving.
    """
    detected = _detect(tuple(columns), kind)
    options: list[str | None] = [None, *columns]
    mapping: dict[str, str | None] = {}
    cols = st.columns(len(roles))
    for col, role in zip(cols, roles, strict=True):
        default = detected.get(role)
        index = options.index(default) if default in options else 0
        mapping[role] = col.selectbox(
            t(f"data.role.{role}"),
            options,
            index=index,
            format_func=lambda c: t("common.none") if c is None else str(c),
            key=f"data_role_{kind}_{role}_{digest[:10]}",
        )
        chosen = mapping[role]
        if role in CHECK_ROLES and chosen is not None and chosen in head.columns:
            key = "data.role_guessed" if chosen == default else "data.role_chosen"
            col.caption(t(key, values=_samples(head, chosen)))
    guessed = [r for r in roles if r in CHECK_ROLES and detected.get(r)]
    if guessed and all(mapping[r] == detected.get(r) for r in guessed):
        st.info(t("data.check_guessed", roles=", ".join(t(f"data.role.{r}") for r in guessed)))
    return mapping


def _event_weights_editor(digest: str) -> dict[str, float]:
    frame = pd.DataFrame(
        {"event": list(DEFAULT_EVENT_WEIGHTS), "weight": list(DEFAULT_EVENT_WEIGHTS.values())}
    )
    edited = st.data_editor(
        frame,
        key=f"data_event_weights_{digest[:10]}",
        hide_index=True,
        disabled=["event"],
        column_config={
            "event": st.column_config.TextColumn(t("data.event")),
            "weight": st.column_config.NumberColumn(
                t("data.weight"), min_value=0.0, max_value=100.0, step=0.5
            ),
        },
        width=360,
    )
    return {
        str(e): float(w)
        for e, w in zip(edited["event"], edited["weight"], strict=True)
        if pd.notna(w)
    }


def _save(inter_file, cat_file, user_file, parts: dict, choice: NameChoice) -> None:
    """Check the files with the library and save them as the active dataset (then rerun)."""
    try:
        with st.spinner("…"):
            result = load_dataset(
                parts["inter"],
                parts["cat"],
                interactions_name=inter_file.name,
                catalog_name=cat_file.name if cat_file is not None else None,
                interactions_map=parts["inter_map"],
                catalog_map=parts["cat_map"],
                event_weights=parts["weights"],
                name=choice.name or "dataset",
                users=parts["users"],
                users_name=user_file.name if user_file is not None else None,
                users_map=parts["users_map"],
                personal=parts["personal"],
                personal_key=(
                    workspace_key(state.get_workspace()) if parts["personal"] == "hash" else None
                ),
            )
    except RecsysError as err:  # a bad upload; anything else is a bug and is logged
        st.error(t("data.upload_failed", err=error_text(err)))
        partial = getattr(err, "report", None)
        if partial is not None:
            with st.expander(t("data.report")):
                st.code(partial.to_text(), language=None)
        return
    name = choice.name or "dataset"
    state.save_loaded(result, name, source="upload", replace_id=choice.replace_id)
    n_dropped = sum(
        sum((f.get("dropped") or {}).values()) for f in result.report.to_dict().get("files", [])
    )
    st.session_state["data_flash"] = t("data.saved", name=md(name)) + (
        " " + t("data.saved_dropped", n=n_dropped) if n_dropped else ""
    )
    st.rerun()


def _runs_note(datasets: list[dict], name: str) -> str | None:
    """What overwriting the dataset of that name also deletes (its runs), if anything."""
    clash = same_name(datasets, name)
    n_runs = len(state.list_runs(clash[0]["id"])) if clash else 0
    return t("naming.overwrite_dataset_runs", n=n_runs) if n_runs else None


def upload_section(has_datasets: bool) -> None:
    """The upload expander: three files, their column roles, event weights, check and save."""
    with st.expander(t("data.upload_header"), expanded=not has_datasets):
        st.caption(t("data.upload_help"))
        left, right, third = st.columns(3)
        inter_file = left.file_uploader(
            t("data.upload_interactions"), type=CSV_TYPES, key="data_up_inter"
        )
        cat_file = right.file_uploader(t("data.upload_catalog"), type=CSV_TYPES, key="data_up_cat")
        user_file = third.file_uploader(
            t("data.upload_users"),
            type=CSV_TYPES,
            key="data_up_users",
            help=t("data.upload_users_help"),
        )
        if inter_file is None:
            return
        inter = _file_roles(
            inter_file, "data.roles_interactions", "interactions", INTERACTION_ROLES
        )
        if inter is None:
            return
        inter_bytes, inter_digest, inter_map, personal = inter
        st.caption(t("data.roles_help"))
        cat_bytes, cat_map = None, None
        if cat_file is not None:
            cat = _file_roles(cat_file, "data.roles_catalog", "catalog", CATALOG_ROLES)
            if cat is None:
                return
            cat_bytes, _, cat_map, cat_personal = cat
            personal = personal + cat_personal
        user_bytes, user_map = None, None
        if user_file is not None:
            users = _file_roles(user_file, "data.roles_users", "users", USER_ROLES)
            if users is None:
                return
            user_bytes, _, user_map, user_personal = users
            personal = personal + user_personal

        action = _personal_choice(personal, inter_digest)
        weights = None
        if inter_map.get("event"):
            st.markdown(f"**{t('data.event_weights')}**")
            st.caption(t("data.event_weights_help"))
            weights = _event_weights_editor(inter_digest)

        missing = [r for r in ("user", "item") if not inter_map.get(r)]
        if cat_map is not None and not cat_map.get("item"):
            missing.append("catalog_item")
        if user_map is not None and not user_map.get("user"):
            missing.append("users_user")
        files = {"catalog_item": cat_file, "users_user": user_file}
        for role in missing:
            st.error(t(f"data.missing_role.{role}", file=md((files.get(role) or inter_file).name)))
        name = st.text_input(
            t("data.name"), value=Path(inter_file.name).stem, key=f"data_name_{inter_digest[:10]}"
        )
        datasets = state.list_datasets()
        choice = choose_name(
            name,
            datasets,
            f"data_name_choice_{inter_digest[:10]}",
            dataset_label,
            overwrite_note=_runs_note(datasets, name),
        )
        disabled = bool(missing) or choice is None
        clicked = st.button(
            t("data.check_save"), type="primary", key="data_save", disabled=disabled
        )
        if clicked and choice is not None:
            parts = {
                "inter": inter_bytes,
                "inter_map": inter_map,
                "cat": cat_bytes,
                "cat_map": cat_map,
                "users": user_bytes,
                "users_map": user_map,
                "weights": weights,
                "personal": action,
            }
            _save(inter_file, cat_file, user_file, parts, choice)
