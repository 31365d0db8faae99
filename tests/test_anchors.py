"""Anchors: ``item-`` + 6 hex digits of md5(path), made unique within each report.

Six hex digits collide often in large ranges (two of 2,654 paths did in the whole history of
rust-lang/book); the second file then gets ``-2``, like a path changed twice in a patch series.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.gitrepo import GitRepo

from diff_insight.config import Config
from diff_insight.pipeline import ReportRequest, generate_reports
from diff_insight.render.markdown import parse_report
from diff_insight.report import anchor_for, anchor_numbers, unique_anchors
from diff_insight.site import build_site

# two real paths (from rust-lang/book) whose md5 digests start with the same six hex digits
A = "listings/ch04-understanding-ownership/no-listing-16-no-dangle/Cargo.lock"
B = "second-edition/book.toml"


def test_the_two_paths_really_collide() -> None:
    da = hashlib.md5(A.encode()).hexdigest()
    db = hashlib.md5(B.encode()).hexdigest()
    assert da[:6] == db[:6] and da != db
    assert anchor_for(A) == anchor_for(B) == "item-" + da[:6]


def test_unique_anchors_number_collisions_and_repeats_in_report_order() -> None:
    base = anchor_for(A)
    assert unique_anchors([A, "x.md", B]) == [base, anchor_for("x.md"), f"{base}-2"]
    assert unique_anchors([B, A]) == [base, f"{base}-2"]
    # a repeated path and a colliding one share the numbering
    assert unique_anchors([A, B, A]) == [base, f"{base}-2", f"{base}-3"]
    assert anchor_numbers([A, B, A]) == [1, 2, 3]
    assert anchor_numbers([A, "x.md", A]) == [1, 1, 2]


def _repo_with_both(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path)
    repo.write("README.md", "# Book\n")
    repo.commit("base")
    repo.write(A, '[[package]]\nname = "ownership"\n')
    repo.write(B, '[book]\ntitle = "The Book"\n')
    repo.write("src/ch01.md", "# Chapter 1\n\nText.\n")
    repo.commit("both")
    return repo


def test_colliding_paths_in_one_report_get_distinct_anchors_and_parse_back(tmp_path: Path) -> None:
    repo = _repo_with_both(tmp_path)
    out = tmp_path / "out"
    result = generate_reports(
        ReportRequest("git", str(repo.path), "HEAD~1", "HEAD", out_root=out),
        Config(locales=["en_US", "ja_JP"]),
    )
    assert len(result.reports) == 2
    base = anchor_for(A)
    for written in result.reports:
        text = written.path.read_text(encoding="utf-8")
        parsed = parse_report(text)
        by_path = {f.path: f.anchor for f in parsed.files}
        # diff order puts the listing before the second edition
        assert by_path[A] == base and by_path[B] == f"{base}-2"
        # the summary table links each file to its own section
        assert f"](#{base})" in text and f"](#{base}-2)" in text
        assert text.count(f"{{#{base}}}") == 1 and text.count(f"{{#{base}-2}}") == 1
    summary = build_site(out / "reports", tmp_path / "site")
    assert summary.reports == 2
    page = next((tmp_path / "site").rglob("en_US/reports/*/all.html")).read_text(encoding="utf-8")
    assert f'id="{base}"' in page and f'id="{base}-2"' in page


def test_colliding_paths_in_different_reports_keep_the_plain_anchor(tmp_path: Path) -> None:
    repo = _repo_with_both(tmp_path)
    out = tmp_path / "out"
    cfg = Config(locales=["en_US"], categories={"listings": ["listings"], "editions": ["second-edition"]})
    result = generate_reports(ReportRequest("git", str(repo.path), "HEAD~1", "HEAD", out_root=out), cfg)
    anchors = {}
    for written in result.reports:
        for f in parse_report(written.path.read_text(encoding="utf-8")).files:
            anchors[f.path] = f.anchor
    assert anchors[A] == anchors[B] == anchor_for(A)
