#!/usr/bin/env python3
"""Offline dependency audit: match pinned distributions against a local copy of OSV advisories.

An offline equivalent of `scripts/audit.sh` (pip-audit) for machines that cannot reach PyPI's JSON
API or api.osv.dev. The advisories come from a local directory: a checkout of
https://github.com/pypa/advisory-database, any folder tree of OSV `.yaml`/`.yml`/`.json` files, or a
bare git repository (HEAD's tree is read with `git archive`). What it reports is bounded by the date
of that copy: advisories published after it are unknown to this audit.

    .venv/bin/python scripts/audit_osv.py --db /path/to/advisory-database
    .venv/bin/python scripts/audit_osv.py --db DIR -r requirements.txt --json build/audit-osv.json

By default the audited set is `pip freeze --all --exclude-editable` of `.venv` minus diff-insight
itself, as in `scripts/audit.sh`. Exit code: 0 no known vulnerability, 1 vulnerabilities found,
2 bad input (missing or empty database, unreadable or unpinned requirements).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

PROG = "audit-osv"
PROJECT = "diff-insight"
ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = (".yaml", ".yml", ".json")
# every YAML scalar stays a string: an unquoted `fixed: 1.10` must not become the float 1.1
_YamlLoader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_PINNED = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[[^\]]*\])?\s*===?\s*([^\s;#]+)")


class InputError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


def normalize(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


# --- the advisory database ---------------------------------------------------------------------


@dataclass
class Affected:
    """One `affected[]` entry of a PyPI advisory."""

    versions: frozenset[str]
    ranges: list[list[dict[str, str]]]  # the events of each ECOSYSTEM range


@dataclass
class Advisory:
    id: str
    aliases: list[str]
    summary: str
    modified: str
    source: str
    affected: dict[str, list[Affected]] = field(default_factory=dict)  # by normalised name


@dataclass
class Database:
    path: str
    advisories: dict[str, Advisory]  # by id, PyPI advisories that are not withdrawn
    by_package: dict[str, list[Advisory]]
    withdrawn: int
    records: int  # OSV records read, any ecosystem
    unreadable: list[str]  # files that could not be parsed
    commit: str | None
    commit_date: str | None
    newest_modified: str | None

    @property
    def as_of(self) -> str:
        if self.commit_date:
            return f"{self.commit_date[:10]}, git commit {self.commit[:12] if self.commit else '?'}"
        if self.newest_modified:
            return f"{self.newest_modified[:10]}, newest advisory 'modified' date"
        return "unknown date"


def _git(args: list[str]) -> str | None:
    try:
        proc = subprocess.run(["git", *args], capture_output=True, check=False)
    except OSError:
        return None
    return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else None


def _is_bare_repo(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def _files_from_bare_repo(path: Path) -> Iterator[tuple[str, bytes]]:
    try:
        proc = subprocess.run(
            ["git", f"--git-dir={path}", "archive", "--format=tar", "HEAD"], capture_output=True, check=False
        )
    except OSError as exc:
        raise InputError(f"cannot run git to read the bare repository {path}: {exc}") from exc
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git archive HEAD failed in {path}: {message[-1] if message else 'no output'}")
    with tarfile.open(fileobj=io.BytesIO(proc.stdout), mode="r:") as tar:
        for member in tar:
            if member.isfile() and member.name.lower().endswith(SUFFIXES):
                handle = tar.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def _files_from_directory(path: Path) -> Iterator[tuple[str, bytes]]:
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for filename in sorted(filenames):
            if filename.lower().endswith(SUFFIXES):
                full = Path(dirpath, filename)
                yield str(full.relative_to(path)), full.read_bytes()


def _parse(name: str, data: bytes) -> Any:
    text = data.decode("utf-8")
    if name.lower().endswith(".json"):
        return json.loads(text)
    return yaml.load(text, Loader=_YamlLoader)  # BaseLoader: only str, list and dict


def _pypi_affected(record: dict[str, Any]) -> dict[str, list[Affected]]:
    result: dict[str, list[Affected]] = {}
    for entry in record.get("affected") or []:
        if not isinstance(entry, dict):
            continue
        package = entry.get("package") or {}
        if not isinstance(package, dict) or package.get("ecosystem") != "PyPI" or not package.get("name"):
            continue
        ranges = []
        for rng in entry.get("ranges") or []:
            # GIT ranges need the project's history, SEMVER is not PEP 440: only ECOSYSTEM is used
            if isinstance(rng, dict) and rng.get("type") == "ECOSYSTEM":
                ranges.append([e for e in rng.get("events") or [] if isinstance(e, dict)])
        versions = frozenset(str(v) for v in entry.get("versions") or [])
        result.setdefault(normalize(str(package["name"])), []).append(Affected(versions, ranges))
    return result


def load_database(path: Path) -> Database:
    if not path.exists():
        raise InputError(f"advisory database not found: {path}")
    if not path.is_dir():
        raise InputError(f"advisory database is not a directory: {path}")
    if _is_bare_repo(path):
        files: Iterator[tuple[str, bytes]] = _files_from_bare_repo(path)
        git_args = [f"--git-dir={path}"]
    else:
        files = _files_from_directory(path)
        git_args = ["-C", str(path)] if (path / ".git").exists() else []
    commit = commit_date = None
    if git_args:
        commit = _git([*git_args, "rev-parse", "HEAD"])
        commit_date = _git([*git_args, "log", "-1", "--format=%cI", "HEAD"])

    advisories: dict[str, Advisory] = {}
    withdrawn: set[str] = set()
    unreadable: list[str] = []
    records = 0
    newest = ""
    for name, data in files:
        try:
            record = _parse(name, data)
        except (UnicodeDecodeError, ValueError, yaml.YAMLError):
            unreadable.append(name)
            continue
        # other YAML in the tree (CI workflows, triage lists) is not an OSV record
        if not isinstance(record, dict) or not isinstance(record.get("id"), str) or "affected" not in record:
            continue
        records += 1
        modified = str(record.get("modified") or "")
        newest = max(newest, modified)
        affected = _pypi_affected(record)
        if not affected:
            continue
        if record.get("withdrawn"):
            withdrawn.add(record["id"])
            continue
        previous = advisories.get(record["id"])
        if previous is not None and previous.modified >= modified:
            continue  # the same advisory twice (e.g. .yaml and .json): keep the newest
        advisories[record["id"]] = Advisory(
            id=record["id"],
            aliases=sorted({str(a) for a in record.get("aliases") or []}),
            summary=str(record.get("summary") or "").strip(),
            modified=modified,
            source=name,
            affected=affected,
        )
    if records == 0:
        raise InputError(f"no OSV advisories found in {path}")
    by_package: dict[str, list[Advisory]] = {}
    for advisory in sorted(advisories.values(), key=lambda a: a.id):
        for package in advisory.affected:
            by_package.setdefault(package, []).append(advisory)
    return Database(
        path=str(path),
        advisories=advisories,
        by_package=by_package,
        withdrawn=len(withdrawn - advisories.keys()),
        records=records,
        unreadable=unreadable,
        commit=commit,
        commit_date=commit_date,
        newest_modified=newest or None,
    )


# --- matching ----------------------------------------------------------------------------------

_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


def _in_range(version: Version, events: list[dict[str, str]]) -> bool | None:
    """Whether `version` falls in an OSV ECOSYSTEM range; None if the range cannot be evaluated.

    The OSV algorithm: walk the events in version order; `introduced` opens the range (`"0"` is below
    every version), `fixed` closes it at that version, `last_affected` just after it. A `limit`
    (rare outside GIT ranges) is an upper bound that no affected version reaches.
    """
    points: list[tuple[int, Version, int, str]] = []  # (0 for the introduced "0", version, order, kind)
    limits: list[Version] = []
    for event in events:
        for kind, raw in event.items():
            value = str(raw)
            if kind not in _EVENT_ORDER or (kind == "limit" and value == "*"):
                continue
            if kind == "introduced" and value == "0":
                points.append((0, Version("0"), 0, kind))
                continue
            parsed = parse_version(value)
            if parsed is None:
                return None
            if kind == "limit":
                limits.append(parsed)
            else:
                points.append((1, parsed, _EVENT_ORDER[kind], kind))
    if limits and not any(version < limit for limit in limits):
        return False
    affected = False
    for rank, point, _, kind in sorted(points):
        if kind == "introduced" and (rank == 0 or version >= point):
            affected = True
        elif (kind == "fixed" and version >= point) or (kind == "last_affected" and version > point):
            affected = False
    return affected


@dataclass
class Match:
    advisory: Advisory
    fixed_in: list[str]
    last_affected: list[str]


def match(db: Database, name: str, version: str) -> tuple[list[Match], list[str]]:
    """The advisories that affect `name==version`, and warnings about ranges that could not be used."""
    installed = parse_version(version)
    matches: list[Match] = []
    warnings: list[str] = []
    for advisory in db.by_package.get(normalize(name), []):
        hit = False
        fixed: set[str] = set()
        last: set[str] = set()
        for entry in advisory.affected[normalize(name)]:
            if version in entry.versions:
                hit = True
            for events in entry.ranges:
                for event in events:
                    if "fixed" in event:
                        fixed.add(str(event["fixed"]))
                    if "last_affected" in event:
                        last.add(str(event["last_affected"]))
                if installed is None:
                    warnings.append(
                        f"{name} {version}: not a PEP 440 version, ranges of {advisory.id} not evaluated"
                    )
                    continue
                inside = _in_range(installed, events)
                if inside is None:
                    warnings.append(
                        f"{advisory.id}: a range for {name} has a version that is not PEP 440, ignored"
                    )
                hit = hit or bool(inside)
        if not hit:
            continue
        # report the fixes that are upgrades from the installed version (not an older branch's fix)
        later = [f for f in fixed if installed is None or (v := parse_version(f)) is None or v > installed]
        matches.append(Match(advisory, _sort_versions(later), _sort_versions(last)))
    # one record per vulnerability: drop an advisory that is an alias of one already matched
    seen: set[str] = set()
    unique: list[Match] = []
    for m in matches:
        if m.advisory.id in seen:
            continue
        seen.update([m.advisory.id, *m.advisory.aliases])
        unique.append(m)
    return unique, warnings


def _sort_versions(values: set[str] | list[str]) -> list[str]:
    return sorted(values, key=lambda v: (parse_version(v) or Version("0"), v))


# --- requirements ------------------------------------------------------------------------------


def parse_requirements(text: str, origin: str) -> list[tuple[str, str]]:
    pins: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise InputError(f"{origin}:{number}: options are not supported, pinned name==version lines only")
        found = _PINNED.match(line)
        if not found:
            raise InputError(f"{origin}:{number}: not a pinned name==version requirement: {line}")
        name, version = found.group(1), found.group(2)
        if normalize(name) != PROJECT:
            pins.append((name, version))
    return pins


def read_requirements(path: str | None, venv: Path) -> tuple[list[tuple[str, str]], str]:
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read requirements {path}: {exc}") from exc
        return parse_requirements(text, path), path
    python = venv / "bin" / "python"
    if not python.exists():
        raise InputError(f"no {python}; run 'make test' first or pass -r FILE")
    proc = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--all", "--exclude-editable"], capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise InputError(f"pip freeze failed in {venv} (exit {proc.returncode})")
    origin = f"pip freeze of {venv}"
    return parse_requirements(proc.stdout.decode("utf-8", "replace"), origin), origin


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", required=True, type=Path, help="directory or bare git repo of OSV advisories")
    parser.add_argument("-r", "--requirement", metavar="FILE", help="pinned name==version lines")
    parser.add_argument(
        "--venv", type=Path, default=ROOT / ".venv", help="virtualenv to freeze (default .venv)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    args = parser.parse_args(argv)
    try:
        pins, origin = read_requirements(args.requirement, args.venv)
        db = load_database(args.db)
    except InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2

    results: list[dict[str, Any]] = []
    warnings: list[str] = []
    total = 0
    for name, version in pins:
        matches, notes = match(db, name, version)
        warnings.extend(notes)
        vulns = []
        for m in matches:
            aliases = f" ({', '.join(m.advisory.aliases)})" if m.advisory.aliases else ""
            if m.fixed_in:
                fix = ", ".join(m.fixed_in)
            elif m.last_affected:
                fix = f"no fix recorded (last affected {', '.join(m.last_affected)})"
            else:
                fix = "no fix recorded"
            print(f"VULNERABLE {name} {version}: {m.advisory.id}{aliases} fixed in: {fix}")
            vulns.append(
                {
                    "id": m.advisory.id,
                    "aliases": m.advisory.aliases,
                    "fix_versions": m.fixed_in,
                    "last_affected": m.last_affected,
                    "summary": m.advisory.summary,
                    "modified": m.advisory.modified,
                    "source": m.advisory.source,
                }
            )
        total += len(vulns)
        results.append({"name": name, "version": version, "vulns": vulns})
    for warning in sorted(set(warnings)):
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if db.unreadable:
        print(
            f"{PROG}: warning: {len(db.unreadable)} unreadable file(s) skipped, e.g. {db.unreadable[0]}",
            file=sys.stderr,
        )
    print(
        f"{PROG}: {len(pins)} distributions checked against {len(db.advisories)} advisories "
        f"(database as of {db.as_of}), {total} known vulnerabilities"
    )
    since = db.as_of.split(",")[0] if (db.commit_date or db.newest_modified) else "the copy was made"
    print(
        f"{PROG}: only as complete as this copy of the database: advisories published after "
        f"{since} are not known to this audit"
    )
    if args.json:
        report = {
            "tool": PROG,
            "requirements": origin,
            "database": {
                "path": db.path,
                "as_of": db.as_of,
                "commit": db.commit,
                "commit_date": db.commit_date,
                "newest_modified": db.newest_modified,
                "advisories": len(db.advisories),
                "withdrawn": db.withdrawn,
                "osv_records": db.records,
                "unreadable_files": db.unreadable,
            },
            "dependencies": results,
            "vulnerabilities": total,
            "warnings": sorted(set(warnings)),
        }
        try:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"{PROG}: error: cannot write {args.json}: {exc}", file=sys.stderr)
            return 2
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
