"""Atom 1.0 feeds. Pure: reports in, XML text out. Entry ids are ``urn:uuid:`` values derived
(uuid5) from what identifies a report, so they stay the same across rebuilds."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape, quoteattr

from diff_insight import __version__
from diff_insight.site.model import SiteReport

FEED_ENTRIES = 50
"""Entries per feed (the newest reports)."""

_NS = uuid.UUID("5d0a7c5e-3f4b-5b8e-9a57-1f6c2f1d9e41")


def entry_id(report: SiteReport) -> str:
    """Stable and unique per (repository, range, category, locale)."""
    key = (
        f"urn:diff-insight:{report.repository or ''}:{report.base}..{report.head}:"
        f"{report.category}:{report.locale}"
    )
    if not report.base and not report.head:  # no range known: the date and file identify it
        key += f":{report.day.isoformat()}:{report.source}"
    return uuid.uuid5(_NS, key).urn


def feed_id(site_key: str, locale: str, category: str | None) -> str:
    return uuid.uuid5(_NS, f"urn:diff-insight:feed:{site_key}:{locale}:{category or ''}").urn


def _updated(report: SiteReport) -> str:
    return report.day.isoformat() + "T00:00:00Z"


def atom_feed(
    *,
    reports: Sequence[SiteReport],
    title: str,
    feed_href: str,
    alternate_href: str,
    site_key: str,
    locale: str,
    category: str | None,
    link: Callable[[SiteReport], str],
) -> str:
    """The feed of ``reports`` (newest first, at most :data:`FEED_ENTRIES`).

    ``feed_href``/``alternate_href`` are the feed's own URL and its HTML page; ``link(report)``
    gives each report page's URL (absolute when a base URL is configured, else relative to the feed).
    """
    newest = sorted(reports, key=lambda r: r.sort_key, reverse=True)[:FEED_ENTRIES]
    updated = max((_updated(r) for r in reports), default="1970-01-01T00:00:00Z")
    lang = locale.replace("_", "-")
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(lang)}>\n',
        f"  <id>{feed_id(site_key, locale, category)}</id>\n",
        f'  <title type="text">{escape(title)}</title>\n',
        f"  <updated>{updated}</updated>\n",
        f'  <link rel="self" type="application/atom+xml" href={quoteattr(feed_href)}/>\n',
        f'  <link rel="alternate" type="text/html" href={quoteattr(alternate_href)}/>\n',
        "  <author><name>diff-insight</name></author>\n",
        f"  <generator version={quoteattr(__version__)}>diff-insight</generator>\n",
    ]
    for r in newest:
        href = link(r)
        out += [
            "  <entry>\n",
            f"    <id>{entry_id(r)}</id>\n",
            f'    <title type="text">{escape(r.title)} · {r.day.isoformat()}</title>\n',
            f"    <updated>{_updated(r)}</updated>\n",
            f'    <link rel="alternate" type="text/html" href={quoteattr(href)}/>\n',
            f"    <category term={quoteattr(r.category)}/>\n",
            f'    <summary type="text">{escape(r.summary or r.title)}</summary>\n',
            "  </entry>\n",
        ]
    out.append("</feed>\n")
    return "".join(out)
