"""No library warning text reaches the user: it is recorded into the log around fit and ingest."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd

from recsys.data import ingest
from recsys.errors import warnings_logged
from recsys.models.popularity import Popularity

ROOT = Path(__file__).resolve().parents[1]
NOISE = "pandas says: A value is trying to be set on a copy of a slice"


def _noisy(original):
    def fit(self, *args, **kwargs):
        warnings.warn(NOISE, UserWarning, stacklevel=1)
        warnings.warn(NOISE, UserWarning, stacklevel=1)  # a repeat is logged once
        return original(self, *args, **kwargs)

    return fit


def test_a_warning_during_fit_goes_to_the_log_not_the_caller(monkeypatch, caplog, tiny_events):
    monkeypatch.setattr(Popularity, "_fit", _noisy(Popularity._fit))
    loaded = ingest.load_dataset(tiny_events.to_csv(index=False).encode())
    with warnings.catch_warnings(record=True) as shown, caplog.at_level(logging.INFO):
        warnings.simplefilter("always")
        Popularity().fit(loaded.dataset)
    assert shown == []
    lines = [r.getMessage() for r in caplog.records if NOISE in r.getMessage()]
    assert lines == [f"library warning while fitting popularity: UserWarning: {NOISE}"]


def test_a_warning_during_ingest_goes_to_the_log(monkeypatch, caplog, tiny_events):
    clean = ingest.clean_interactions

    def noisy(*args, **kwargs):
        warnings.warn(NOISE, FutureWarning, stacklevel=1)
        return clean(*args, **kwargs)

    monkeypatch.setattr(ingest, "clean_interactions", noisy)
    with warnings.catch_warnings(record=True) as shown, caplog.at_level(logging.INFO):
        warnings.simplefilter("always")
        ingest.load_dataset(tiny_events.to_csv(index=False).encode())
    assert shown == [] and any("reading the upload" in r.getMessage() for r in caplog.records)


def test_warnings_logged_restores_the_filters_and_logs_on_errors(caplog):
    before = list(warnings.filters)
    with caplog.at_level(logging.INFO), warnings_logged("probing"):
        try:
            with warnings_logged("inner"):
                warnings.warn("x", RuntimeWarning, stacklevel=1)
                raise ValueError("boom")
        except ValueError:
            pass
    assert warnings.filters == before
    assert [r.getMessage() for r in caplog.records] == [
        "library warning while inner: RuntimeWarning: x"
    ]


def test_the_cli_prints_no_warning_text(tmp_path, tiny_events):
    """The probe's symptom: a raw pandas warning with a site-packages path on stderr."""
    path, preset = tmp_path / "log.csv", tmp_path / "preset.json"
    tiny_events.to_csv(path, index=False)
    preset.write_text('{"name": "p", "models": {"popularity": {}}}')
    code = (
        "import sys, warnings\n"
        "from recsys.models.popularity import Popularity\n"
        "fit = Popularity._fit\n"
        "def noisy(self, *a, **k):\n"
        f"    warnings.warn({NOISE!r}, UserWarning)\n"
        "    return fit(self, *a, **k)\n"
        "Popularity._fit = noisy\n"
        "from recsys.cli import main\n"
        f"sys.exit(main(['export', '--interactions', {str(path)!r}, '--preset', "
        f"{str(preset)!r}, '--quiet', '--out', {str(tmp_path / 'recs.csv')!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert NOISE not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    assert pd.read_csv(tmp_path / "recs.csv").shape[0] > 0, proc.stdout + proc.stderr
