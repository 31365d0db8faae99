"""Where the site reads reports from and writes to, from the arguments and the config."""

from __future__ import annotations

from pathlib import Path

from diff_insight.config import Config
from diff_insight.paths import literal_prefix


def default_reports_dir(out_template: str) -> str:
    """The directory part of ``out`` before its first ``{locale}``/``{category}``/date code
    (``reports`` when that is empty): ``reports/{locale}/%Y%m/…`` → ``reports``."""
    return literal_prefix(out_template) or "reports"


def resolve_dirs(config: Config, reports_dir: Path | None, out_dir: Path | None) -> tuple[Path, Path]:
    """``(REPORTS_DIR, OUT_DIR)``: the arguments when given, else ``[site] reports_dir`` /
    ``out_dir``, else the defaults; relative config values are relative to the current directory."""
    reports = reports_dir or Path(config.site.reports_dir or default_reports_dir(config.out))
    out = out_dir or Path(config.site.out_dir)
    return reports, out
