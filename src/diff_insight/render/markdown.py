"""Report → Markdown in the format of the predecessor's reports (see README, "Report format"),
and the reverse: a small parser used by tests and the site builder."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from diff_insight.model import FileChange, Status
from diff_insight.report import Report, ReportFile, unique_anchors

FIXED_HEADINGS = (
    "# Highlights",
    "## New features",
    "## Breaking changes",
    "## Other updates",
    "# Insights",
    "# Summary Table",
    "# Modified Contents",
)
TABLE_HEADER = "|  Filename  | Type |    Title    | Status | A  | D  | M  |"
TABLE_RULE = "|------------|------|-------------|--------|----|----|----|"
_BACKTICKS = re.compile(r"`+")
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def one_line(text: str) -> str:
    """``text`` on one line: control characters and runs of white space become one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


_BLOCK_START = re.compile(r"^( {0,3})(?=[#<]|`{3}|~{3}|([-*_=])[ \t]*\2[ \t]*\2)")


_ESCAPE_OR_LT = re.compile(r"\\.|<")


def _no_html(text: str) -> str:
    """Every ``<`` not already backslash-escaped gets a backslash: writer text (possibly from a
    model) shows as text and cannot open or close HTML (``</details>``) where HTML is rendered."""
    if "<" not in text:  # then every match is an escape, kept as it is
        return text
    return _ESCAPE_OR_LT.sub(lambda m: "\\<" if m.group(0) == "<" else m.group(0), text)


def _inline(line: str) -> str:
    """A line of writer text that cannot open a block of its own in the report: a leading ``#``,
    code fence or ``---``-style rule is escaped with a backslash (and so is every ``<``), so no
    text can add a heading, an HTML block or an unclosed fence that would swallow the rest of
    the report."""
    line = _no_html(line)
    m = _BLOCK_START.match(line)  # anchored at the start, and its look-ahead ends group 1
    return line if m is None else f"{m.group(1)}\\{line[m.end(1) :]}"


_LINE_BREAK = re.compile(r"\r\n?|\n")


def _prose(text: str) -> str:
    """Multi-line writer text (an explanation), every line made safe with :func:`_inline`."""
    # a lone CR ends a line in CommonMark too: split there as well, or a fence could hide behind it
    return "\n".join(_inline(ln.replace("\x00", "\ufffd")) for ln in _LINE_BREAK.split(text))


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return _no_html(one_line(text).replace("\\", "\\\\")).replace("|", "\\|")


def _link_text(text: str) -> str:
    return _cell(text).replace("[", "\\[").replace("]", "\\]")


def _fence_for(body: str, minimum: int = 4) -> str:
    if "`" * minimum not in body:  # no run reaches the minimum: the common case, without a scan
        return "`" * minimum
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(body)), default=0)
    return "`" * max(minimum, longest + 1)


def _human_size(n: int | None) -> str:
    return "?" if n is None else f"{n} bytes"


def diff_body(change: FileChange) -> str:
    """The text shown in the Diff block: the patch, with git's rename and binary lines."""
    parts: list[str] = []
    if change.status == Status.RENAMED and change.previous_path:
        parts.append(f"rename from {change.previous_path}\nrename to {change.path}\n")
    if change.binary:
        parts.append(
            f"Binary files differ ({_human_size(change.old_size)} → {_human_size(change.new_size)})\n"
        )
    elif change.patch:
        p = change.patch if change.patch.endswith("\n") else change.patch + "\n"
        parts.append(p)
    elif change.changes:
        parts.append("(no patch was provided by the source for this file)\n")
    # NUL is not allowed in Markdown (CommonMark turns it into U+FFFD): do it here, visibly.
    return "".join(parts).replace("\x00", "\ufffd")


def front_matter(report: Report, file_lines: Sequence[str] | None = None) -> dict[str, Any]:
    """The report's front matter; ``files`` holds each file's metadata, or its line as rendered by
    :func:`render_file_parts` when ``file_lines`` are given."""
    cs = report.changeset
    fm: dict[str, Any] = {"date": report.date.isoformat()}
    if cs.permalink:
        fm["permalink"] = cs.permalink
    fm["summary"] = one_line(report.overview.summary)
    fm["title"] = report.title
    fm["repository"] = cs.repository.slug or cs.repository.url or cs.repository.local_path
    fm["base"] = cs.base
    fm["head"] = cs.head
    fm["locale"] = report.locale
    fm["category"] = report.category
    fm["engine"] = report.engine
    fm["engine_version"] = report.engine_version
    counts: dict[str, int] = {}
    for rf in report.files:
        counts[str(rf.type)] = counts.get(str(rf.type), 0) + 1
    fm["counts"] = {
        "files": len(report.files),
        "additions": sum(rf.entry.change.additions for rf in report.files),
        "deletions": sum(rf.entry.change.deletions for rf in report.files),
        "types": counts,
    }
    fm["files"] = list(file_lines) if file_lines is not None else [_file_meta(rf) for rf in report.files]
    fm.update(report.extra)
    return fm


# characters JSON leaves raw that YAML does not take raw: DEL, the C1 controls, the line breaks NEL,
# LS and PS (YAML 1.1 folds them), the BOM, U+FFFE and U+FFFF
_YAML_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


_json_string = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(text, ensure_ascii=False)`` for a string, without building an encoder per call."""


def _yaml_scalar(value: Any) -> str:
    """A scalar as YAML: JSON's double-quoted strings are valid YAML once the characters YAML does
    not allow raw are escaped too."""
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return json.dumps(value)
    text = _json_string(str(value))
    return _YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def dump_front_matter(fm: dict[str, Any]) -> str:
    """The front matter as YAML. The per-file list is written as one flow mapping per line (fast
    for thousands of files); everything else goes through PyYAML."""
    files = fm.get("files")
    head = {k: v for k, v in fm.items() if k != "files"}
    extra_keys = list(fm)[list(fm).index("files") + 1 :] if files is not None else []
    before = {k: v for k, v in head.items() if k not in extra_keys}
    after = {k: head[k] for k in extra_keys}
    text = yaml.dump(before, Dumper=_SafeDumper, allow_unicode=True, sort_keys=False, width=10**9)
    if files is not None:
        if files:
            lines = [item if isinstance(item, str) else _meta_line(item) for item in files]
            text += "files:\n" + "\n".join(lines) + "\n"
        else:
            text += "files: []\n"
    if after:
        text += yaml.dump(after, Dumper=_SafeDumper, allow_unicode=True, sort_keys=False, width=10**9)
    return text


def _meta_line(item: dict[str, Any]) -> str:
    """One file of the front matter's ``files`` list: a flow mapping on one line."""
    return "- {" + ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in item.items()) + "}"


def _file_meta(rf: ReportFile) -> dict[str, Any]:
    e = rf.entry
    meta: dict[str, Any] = {
        "path": e.change.path,
        "type": str(rf.type),
        "rule": e.classification.rule,
        "basis": e.analysis.basis,
        "engine": rf.text.engine,
    }
    if e.change.previous_path:
        meta["previous_path"] = e.change.previous_path
    if e.cluster is not None:
        meta["cluster"] = e.cluster.id
    if e.change.encoding_replaced:
        meta["encoding_replaced"] = True
    if rf.text.modification_type is not None and rf.text.modification_type != e.classification.type:
        meta["classifier_type"] = str(e.classification.type)
        meta["type_reason"] = rf.text.type_reason
    if rf.text.method:
        meta["method"] = rf.text.method
    if rf.text.note:
        meta["note"] = rf.text.note
    return meta


def _bullets(items: tuple[str, ...], none_text: str) -> str:
    if not items:
        return _inline(one_line(none_text))
    return "\n".join("- " + _inline(one_line(i)) for i in items)


@dataclass(frozen=True, slots=True)
class FileParts:
    """What one file contributes to a report, rendered: its front-matter line, its row of the
    summary table, and its section of ``# Modified Contents`` around the Diff block (which is the
    same in every locale, so it is built once, by :func:`diff_block`, and not carried here)."""

    meta: str
    row: str
    head: str
    """The section's heading, up to the Diff block."""
    tail: str
    """The section after the Diff block: summary JSON and explanation."""


@dataclass(frozen=True, slots=True)
class RenderedFiles:
    """Consecutive files of one report, rendered: per file, its line of the front matter's
    ``files`` list, its row of the summary table and its section of ``# Modified Contents`` around
    its Diff block. Tuples of strings, not :class:`FileParts` objects: a worker renders a chunk of
    files this way and sends it back (strings pickle several times faster than objects)."""

    metas: tuple[str, ...]
    rows: tuple[str, ...]
    heads: tuple[str, ...]
    blocks: tuple[str, ...]
    """The Diff blocks: the same in every locale (one tuple for all of them: pickled once)."""
    tails: tuple[str, ...]


def render_files(parts: Sequence[FileParts], blocks: Sequence[str]) -> RenderedFiles:
    """:class:`RenderedFiles` of files rendered with :func:`render_file_parts`, with their Diff
    blocks (:func:`diff_block`), in report order."""
    if len(parts) != len(blocks):
        raise ValueError("one rendered part and one diff block per file are needed")
    return RenderedFiles(
        tuple(p.meta for p in parts),
        tuple(p.row for p in parts),
        tuple(p.head for p in parts),
        tuple(blocks),  # the same tuple when given one
        tuple(p.tail for p in parts),
    )


def render_file_parts(rf: ReportFile) -> FileParts:
    """Everything :func:`render_report` writes about one file but its Diff block (workers render
    these in parallel)."""
    head, tail = _section_parts(rf)
    return FileParts(_meta_line(_file_meta(rf)), _table_row(rf), head, tail)


def _table_row(rf: ReportFile) -> str:
    c = rf.entry.change
    name = c.path.rsplit("/", 1)[-1]
    return (
        f"| [{_link_text(name)}](#{rf.entry.anchor}) | {rf.type} | {_cell(rf.text.title)} "
        f"| {c.status} | {c.additions} | {c.deletions} | {c.changes} | \n"
    )


def render_report(
    report: Report,
    parts: Sequence[FileParts] | None = None,
    blocks: Sequence[str] | None = None,
    *,
    chunks: Sequence[RenderedFiles] | None = None,
) -> str:
    """The report as Markdown.

    ``parts`` are the files' pieces already rendered with :func:`render_file_parts` (by worker
    processes), and ``blocks`` their :func:`diff_block`, in the order of ``report.files``; or
    ``chunks`` hold all of them, consecutive files joined with :func:`render_files`."""
    if chunks is None:
        if parts is None:
            parts = [render_file_parts(rf) for rf in report.files]
        if blocks is None:
            blocks = [diff_block(rf.entry.change) for rf in report.files]
        if len(parts) != len(report.files) or len(blocks) != len(report.files):
            raise ValueError("one rendered part and one diff block per file are needed")
        chunks = [render_files(parts, blocks)]
    elif sum(len(c.heads) for c in chunks) != len(report.files):
        raise ValueError("the rendered chunks must hold every file of the report")
    metas = [m for c in chunks for m in c.metas]
    out: list[str] = []
    out.append("---\n" + dump_front_matter(front_matter(report, metas)) + "\n---\n\n")
    if report.changeset.permalink:
        link = _no_html(one_line(report.changeset.permalink))  # one line, no HTML from the source
        out.append(f'[View Diff on GitHub]({link}){{target="_blank"}}\n\n')
    hl = report.overview.highlights
    out.append("# Highlights\n" + _inline(one_line(hl.intro)) + "\n\n")
    out.append("## New features\n" + _bullets(hl.new_features, hl.none_text) + "\n\n")
    out.append("## Breaking changes\n" + _bullets(hl.breaking_changes, hl.none_text) + "\n\n")
    out.append("## Other updates\n" + _bullets(hl.other_updates, hl.none_text) + "\n\n")
    out.append("# Insights\n" + "\n\n".join(_inline(one_line(p)) for p in report.overview.insights) + "\n\n")
    out.append("# Summary Table\n" + TABLE_HEADER + "\n" + TABLE_RULE + "\n")
    out.extend(row for c in chunks for row in c.rows)
    out.append("\n\n# Modified Contents\n")
    for c in chunks:
        for head, block, tail in zip(c.heads, c.blocks, c.tails, strict=True):
            out += (head, block, tail)
    return "".join(out)


def diff_block(change: FileChange) -> str:
    """The ``<details>`` block with the file's diff in a fence longer than any backtick run in it
    (the same in every locale: compute it once and pass it to :func:`render_file_parts`)."""
    body = diff_body(change)
    fence = _fence_for(body)
    return f"<details>\n<summary>Diff</summary>\n{fence}diff\n{body}{fence}\n</details>"


def _section_parts(rf: ReportFile) -> tuple[str, str]:
    """A file's section before and after its Diff block."""
    # what json.dumps({...}, ensure_ascii=False, indent=4) writes for these two strings
    summary = (
        f'{{\n    "modification_type": {_json_string(str(rf.type))},\n'
        f'    "modification_title": {_json_string(one_line(rf.text.title))}\n}}'
    )
    explanation = _prose(rf.text.explanation.strip())
    return (
        f"## {_no_html(one_line(rf.entry.change.path))}{{#{rf.entry.anchor}}}\n\n",
        f"\n\n### Summary\n\n```json\n{summary}\n```\n\n### Explanation\n{explanation}\n\n",
    )


# --- parsing ------------------------------------------------------------------------------------


@dataclass
class ParsedFile:
    path: str
    anchor: str
    type: str
    title: str
    status: str
    additions: int
    deletions: int
    changes: int
    diff: str = ""
    explanation: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    """The file's item of the front matter's ``files`` list (empty when it has none)."""


@dataclass
class ParsedReport:
    front_matter: dict[str, Any]
    files: list[ParsedFile] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)


_ROW = re.compile(
    r"^\| \[(?P<name>(?:\\.|[^\]\\])*)\]\(#(?P<anchor>item-[0-9a-f]{6}(?:-[0-9]+)?)\) \| (?P<type>[a-z ]+) \| "
    r"(?P<title>(?:\\.|[^|\\])*) \| (?P<status>[a-z]+) \| (?P<a>\d+) \| (?P<d>\d+) \| (?P<m>\d+) \| $"
)
_FILE_HEAD = re.compile(r"^## (?P<path>.*)\{#(?P<anchor>item-[0-9a-f]{6}(?:-[0-9]+)?)\}$")


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def parse_report(text: str) -> ParsedReport:
    """Parse a rendered report back (front matter, summary table, diffs, explanations)."""
    if not text.startswith("---\n"):
        raise ValueError("no front matter")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValueError("front matter is not closed by ---")
    fm = yaml.load(text[4:end], Loader=_SafeLoader) or {}  # the C loader when available
    if not isinstance(fm, dict):
        raise ValueError("front matter is not a mapping")
    body = text[end + 5 :]
    parsed = ParsedReport(front_matter=fm)
    lines = body.split("\n")
    i = 0
    rows: list[ParsedFile] = []
    while i < len(lines):
        line = lines[i]
        m = _ROW.match(line)
        if m:
            rows.append(
                ParsedFile(
                    path="",
                    anchor=m["anchor"],
                    type=m["type"],
                    title=_unescape(m["title"]),
                    status=m["status"],
                    additions=int(m["a"]),
                    deletions=int(m["d"]),
                    changes=int(m["m"]),
                )
            )
            i += 1
            continue
        if line == "# Modified Contents":
            break
        i += 1
    by_anchor = {r.anchor: r for r in rows}
    # the heading shows the path on one line; the front matter has it exactly
    fm_files: list[dict[str, Any]] = [
        f for f in fm.get("files") or () if isinstance(f, dict) and isinstance(f.get("path"), str)
    ]
    meta_by_anchor = dict(zip(unique_anchors([f["path"] for f in fm_files]), fm_files, strict=True))
    current: ParsedFile | None = None
    while i < len(lines):
        line = lines[i]
        m = _FILE_HEAD.match(line)
        if m:
            current = by_anchor.get(m["anchor"])
            if current is not None:
                current.meta = meta_by_anchor.get(m["anchor"], {})
                current.path = str(current.meta.get("path", m["path"]))
            i += 1
            continue
        if (
            current is not None
            and line.startswith("`" * 4)
            and line.endswith("diff")
            and set(line[:-4]) == {"`"}
        ):
            fence = line[:-4]
            j = i + 1
            while j < len(lines) and lines[j] != fence:
                j += 1
            current.diff = "\n".join(lines[i + 1 : j]) + "\n"
            i = j + 1
            continue
        if current is not None and line == "### Explanation":
            j = i + 1
            buf: list[str] = []
            while j < len(lines) and not _FILE_HEAD.match(lines[j]):
                buf.append(lines[j])
                j += 1
            current.explanation = "\n".join(buf).strip()
            i = j
            continue
        i += 1
    parsed.files = rows
    head = body.split("# Summary Table", 1)[0]
    for name in ("Highlights", "Insights"):
        m2 = re.search(rf"^# {name}\n(.*?)(?=^# |\Z)", head, re.S | re.M)
        if m2:
            parsed.sections[name] = m2.group(1).strip()
    return parsed
