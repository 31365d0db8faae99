"""Incremental rebuilds (exactly which files are rewritten), deletions, crash safety (a build killed
with SIGKILL, then a rebuild equal to a clean build) and the preview server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from tests.site_helpers import (
    DAYS,
    LOCALES,
    SampleSite,
    add_report_day,
    build_sample_site,
    make_sample_reports,
)

from diff_insight.config import SiteConfig
from diff_insight.site import MANIFEST, build_site
from diff_insight.site.builder import STAGE

ROOT = Path(__file__).resolve().parent.parent


def stats(site: Path) -> dict[str, tuple[int, int]]:
    """path → (inode, mtime_ns) of every file."""
    out = {}
    for p in site.rglob("*"):
        if p.is_file():
            st = p.stat()
            out[p.relative_to(site).as_posix()] = (st.st_ino, st.st_mtime_ns)
    return out


def contents(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[str]:
    return {p for p in after if before.get(p) != after[p]} | (set(before) - set(after))


def test_rebuild_after_one_new_report_rewrites_only_what_changes(tmp_path: Path) -> None:
    sample = build_sample_site(tmp_path)
    site = sample.site_dir
    before = stats(site)
    time.sleep(0.01)
    noop = sample.build()
    assert noop.written == () and noop.deleted == () and noop.rendered < noop.pages
    assert stats(site) == before

    new = add_report_day(sample, category="guide")
    assert len(new) == len(LOCALES)
    day = (DAYS[-1] + timedelta(days=1)).isoformat()
    summary = sample.build()
    expected = {"index.html", ".diff-insight-site-cache.json"}
    for loc in LOCALES:
        expected |= {
            f"{loc}/reports/{day}/guide.html",
            f"{loc}/index.html",
            f"{loc}/archive.html",
            f"{loc}/feed.atom",
            f"{loc}/category/guide.html",
            f"{loc}/category/guide.atom",
            f"{loc}/search-index.json",
        }
    assert set(summary.written) == expected - {".diff-insight-site-cache.json"}
    after = stats(site)
    assert changed(before, after) == expected | {MANIFEST}
    # only the three new report pages were rendered among the report pages
    old_reports = [p for p in before if "/reports/" in p]
    assert all(before[p] == after[p] for p in old_reports)
    # the result equals a clean build
    build_site(sample.reports_dir, tmp_path / "clean", sample.site)
    assert contents(site) == contents(tmp_path / "clean")


def test_changed_and_deleted_reports(tmp_path: Path) -> None:
    sample = build_sample_site(tmp_path)
    site = sample.site_dir
    # change one report: only its page (and the lists showing its summary) change
    src = next(p for p in (sample.reports_dir / "zh_CN").rglob("*.md") if p.name.endswith("20240303-api.md"))
    src.write_text(src.read_text("utf-8").replace("\nsummary: ", "\nsummary: 更新 ", 1), encoding="utf-8")
    before = stats(site)
    summary = sample.build()
    pages = {p for p in summary.written if "/reports/" in p}
    assert pages == {"zh_CN/reports/2024-03-03/api.html"}
    assert {p.split("/")[0] for p in summary.written} == {"zh_CN"}
    assert changed(before, stats(site)) - {MANIFEST, ".diff-insight-site-cache.json"} == set(summary.written)
    # delete the ja_JP report of a day: its page goes, its siblings lose their link to it
    gone = next(
        p for p in (sample.reports_dir / "ja_JP").rglob("*.md") if p.name.endswith("20240304-other.md")
    )
    gone.unlink()
    summary = sample.build()
    assert summary.deleted == ("ja_JP/reports/2024-03-04/other.html",)
    assert not (site / "ja_JP/reports/2024-03-04/other.html").exists()
    rewritten_reports = {p for p in summary.written if "/reports/" in p}
    assert rewritten_reports == {"en_US/reports/2024-03-04/other.html", "zh_CN/reports/2024-03-04/other.html"}
    en = (site / "en_US/reports/2024-03-04/other.html").read_text("utf-8")
    assert 'hreflang="ja-JP" lang="ja-JP" href="../../../ja_JP/index.html"' in en
    # delete a whole category of a locale: its category page and feed go
    for p in (sample.reports_dir / "ja_JP").rglob("*-other.md"):
        p.unlink()
    summary = sample.build()
    assert "ja_JP/category/other.html" in summary.deleted and "ja_JP/category/other.atom" in summary.deleted
    build_site(sample.reports_dir, tmp_path / "clean", sample.site)
    assert contents(site) == contents(tmp_path / "clean")


def test_a_settings_change_rewrites_every_page(tmp_path: Path) -> None:
    sample = build_sample_site(tmp_path)
    summary = build_site(sample.reports_dir, sample.site_dir, SiteConfig(title="Another title"))
    html_pages = {p.relative_to(sample.site_dir).as_posix() for p in sample.site_dir.rglob("*.html")}
    assert html_pages <= set(summary.written)


def _big_reports(sample: SampleSite, copies: int) -> None:
    """More reports: the sample's, again on later days (dates changed in the front matter)."""
    originals = sorted(sample.reports_dir.rglob("*.md"))
    for k in range(1, copies + 1):
        for src in originals:
            text = src.read_text("utf-8")
            m = re.search(r"^date: '(\d{4}-\d\d-\d\d)'$", text, re.M)
            assert m is not None
            day = date.fromisoformat(m.group(1)) + timedelta(days=7 * k)
            text = text.replace(m.group(0), f"date: '{day.isoformat()}'", 1)
            text = text.replace("\nhead: ", f"\nhead: {k:04x}", 1)
            (src.parent / f"copy{k}-{src.name}").write_text(text, encoding="utf-8")


def _live_pages(site: Path) -> int:
    """The pages under ``site`` while a build runs: a folder it removes meanwhile (its staging
    folder) is skipped, where ``Path.rglob`` would fail."""
    return sum(1 for _, _, names in os.walk(site) for n in names if n.endswith(".html"))


def test_a_killed_build_leaves_no_partial_file_and_the_next_build_repairs_it(tmp_path: Path) -> None:
    sample = make_sample_reports(tmp_path)
    _big_reports(sample, 8)  # 24 × 9 reports
    clean = tmp_path / "clean"
    build_site(sample.reports_dir, clean, sample.site)
    expected = contents(clean)
    site = sample.site_dir
    code = (
        "import sys; from pathlib import Path; from diff_insight.site import build_site; "
        "build_site(Path(sys.argv[1]), Path(sys.argv[2]))"
    )
    env = {**os.environ, "DIFF_INSIGHT_WORKERS": "1"}
    # first build killed early, then a rebuild of a changed input killed late, then a full rebuild
    for round_, threshold in enumerate((20, 30)):
        if round_ == 1:
            extra = next(sample.reports_dir.rglob("copy3-*.md"))
            extra.write_text(extra.read_text("utf-8").replace("summary: '", "summary: 'X ", 1), "utf-8")
            for p in list(site.rglob("*.html"))[::3]:  # make many pages stale
                p.unlink()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(sample.reports_dir), str(site)], env=env, cwd=ROOT
        )
        deadline = time.monotonic() + 120
        manifest = site / MANIFEST
        try:
            # wait until the build has started changing OUT_DIR, then until it wrote some pages
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    started = b'"complete": false' in manifest.read_bytes()
                except OSError:
                    started = False
                if started:
                    break
                time.sleep(0.002)
            pages_at_start = _live_pages(site)
            while time.monotonic() < deadline and proc.poll() is None:
                if _live_pages(site) >= pages_at_start + threshold:
                    break
                time.sleep(0.005)
            killed = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait()
        assert killed, f"round {round_}: the build ended before it could be killed"
        for p in site.rglob("*.html"):  # every page present is complete
            assert p.read_bytes().rstrip().endswith(b"</html>"), p
        # temporary files only in the staging folder, never among the pages
        temps = [p for p in site.rglob("*") if p.name.endswith(".tmp")]
        assert all(p.parent.name == STAGE for p in temps), temps
        if round_ == 1:  # undo the change so that the result must equal the clean build
            extra.write_text(extra.read_text("utf-8").replace("summary: 'X ", "summary: '", 1), "utf-8")
    summary = build_site(sample.reports_dir, site, sample.site)
    assert summary.reports == 24 * 9
    assert not [p for p in site.rglob("*") if p.name.endswith(".tmp")]
    assert not (site / STAGE).exists()
    assert contents(site) == expected


def test_serve_rebuilds_when_a_report_arrives(tmp_path: Path) -> None:
    sample = make_sample_reports(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "diff_insight",
            "site",
            "serve",
            str(sample.reports_dir),
            str(sample.site_dir),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as client:
            r = client.get("en_US/index.html")
            assert r.status_code == 200 and "text/html" in r.headers["content-type"]
            assert '<html lang="en-US">' in r.text
            assert client.get("en_US/search-index.json").json()["r"]
            assert client.get("static/search.js").status_code == 200
            new_day = (DAYS[-1] + timedelta(days=1)).isoformat()
            assert client.get(f"ja_JP/reports/{new_day}/api.html").status_code == 404
            add_report_day(sample, category="api")
            deadline = time.monotonic() + 30
            status = 404
            while time.monotonic() < deadline:
                status = client.get(f"ja_JP/reports/{new_day}/api.html").status_code
                if status == 200:
                    break
                time.sleep(0.2)
            assert status == 200
            assert new_day in client.get("ja_JP/index.html").text
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("port", ["-1", "70000"])
def test_serve_rejects_a_bad_port(tmp_path: Path, port: str) -> None:
    from click.testing import CliRunner

    from diff_insight.cli import cli

    res = CliRunner().invoke(cli, ["site", "serve", str(tmp_path), str(tmp_path / "o"), "--port", port])
    assert res.exit_code == 2
