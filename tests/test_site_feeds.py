"""Atom feeds of the site: valid for feedparser, stable unique entry ids, links to existing pages,
absolute links with a base URL."""

from __future__ import annotations

import posixpath
from pathlib import Path

import feedparser
import pytest
from tests.site_helpers import CATEGORIES, DAYS, LOCALES, SampleSite, add_report_day, build_sample_site

from diff_insight.config import SiteConfig
from diff_insight.site import build_site

ATOM_NS = 'xmlns="http://www.w3.org/2005/Atom"'


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSite:
    return build_sample_site(tmp_path_factory.mktemp("feeds"))


def feeds_of(site: Path) -> list[Path]:
    return sorted(site.rglob("*.atom"))


def parse(path: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
    assert parsed.version == "atom10"
    return parsed


def test_every_feed_is_valid_atom_with_links_to_report_pages(sample: SampleSite) -> None:
    feeds = feeds_of(sample.site_dir)
    assert len(feeds) == len(LOCALES) * (1 + len(CATEGORIES))
    for path in feeds:
        text = path.read_text("utf-8")
        assert ATOM_NS in text
        parsed = parse(path)
        rel = path.relative_to(sample.site_dir).as_posix()
        locale = rel.split("/")[0]
        assert parsed.feed.id.startswith("urn:uuid:")
        assert parsed.feed.title
        assert parsed.feed.language == locale.replace("_", "-")
        assert any(link.rel == "self" for link in parsed.feed.links)
        assert parsed.entries
        newest = max(e.updated for e in parsed.entries)
        assert parsed.feed.updated == newest
        for e in parsed.entries:
            assert e.id.startswith("urn:uuid:") and e.title and e.summary
            assert e.updated.endswith("T00:00:00Z") and e.updated[:10] in {d.isoformat() for d in DAYS}
            href = [link.href for link in e.links if link.rel == "alternate"][0]
            # relative to the feed file (no base_url configured)
            assert not href.startswith(("http:", "https:", "/"))
            target = Path(posixpath.normpath(posixpath.join(path.parent.as_posix(), href)))
            assert target.is_file(), (rel, href)
            assert f"/{locale}/reports/" in target.as_posix()
            if "/category/" in rel:
                assert target.name.split(".")[0] == path.stem
        # dates newest first
        dates = [e.updated for e in parsed.entries]
        assert dates == sorted(dates, reverse=True)


def test_entry_ids_are_unique_and_stable_across_builds(sample: SampleSite, tmp_path: Path) -> None:
    all_ids: set[str] = set()
    for loc in LOCALES:
        ids = [e.id for e in parse(sample.site_dir / loc / "feed.atom").entries]
        assert len(ids) == len(set(ids)) == 8
        assert not (set(ids) & all_ids)  # one id per report and locale
        all_ids |= set(ids)
        for cat in CATEGORIES:
            cat_ids = {e.id for e in parse(sample.site_dir / loc / "category" / f"{cat}.atom").entries}
            assert cat_ids <= set(ids)
    # a fresh build elsewhere, and a rebuild after a new day: the old entries keep their ids
    other = tmp_path / "other"
    build_site(sample.reports_dir, other, sample.site)
    for path in feeds_of(sample.site_dir):
        rel = path.relative_to(sample.site_dir)
        assert path.read_bytes() == (other / rel).read_bytes()
    add_report_day(sample)
    build_site(sample.reports_dir, other, sample.site)
    after = parse(other / "en_US" / "feed.atom")
    before = parse(sample.site_dir / "en_US" / "feed.atom")
    assert {e.id for e in before.entries} < {e.id for e in after.entries}
    assert len(after.entries) == len(before.entries) + 1
    assert after.feed.id == before.feed.id and after.feed.updated > before.feed.updated


def test_base_url_makes_links_absolute(tmp_path: Path) -> None:
    sample = build_sample_site(tmp_path, site=SiteConfig(base_url="https://docs.example.com/news/"))
    parsed = parse(sample.site_dir / "ja_JP" / "category" / "api.atom")
    self_link = [link.href for link in parsed.feed.links if link.rel == "self"][0]
    assert self_link == "https://docs.example.com/news/ja_JP/category/api.atom"
    for e in parsed.entries:
        assert e.link.startswith("https://docs.example.com/news/ja_JP/reports/")
        assert e.link.endswith("/api.html")
    # the pages themselves stay relative
    html = (sample.site_dir / "ja_JP" / "index.html").read_text("utf-8")
    assert "https://docs.example.com" not in html
