"""scripts/audit_osv.py: the offline OSV audit, run as a subprocess against a fake advisory database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "audit_osv.py"

# YAML as in pypa/advisory-database; `fixed: 1.10` is deliberately unquoted (not the float 1.1)
FOO_BAR_YAML = """\
id: PYSEC-2099-1
summary: foo-bar before 1.10
modified: "2024-03-01T10:00:00Z"
aliases:
- CVE-2099-0001
- GHSA-aaaa-bbbb-cccc
affected:
- package:
    name: Foo_Bar
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 1.10
"""

LAST_AFFECTED_YAML = """\
id: PYSEC-2099-2
modified: "2024-02-01T00:00:00Z"
affected:
- package: {name: lastpkg, ecosystem: PyPI}
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "2.0"
    - last_affected: "2.3"
"""

VERSIONS_LIST_YAML = """\
id: PYSEC-2099-3
modified: "2024-01-15T00:00:00Z"
affected:
- package: {name: listed.pkg, ecosystem: PyPI}
  versions: ["0.5", "0.7"]
"""

WITHDRAWN_YAML = """\
id: PYSEC-2099-4
modified: "2024-04-01T00:00:00Z"
withdrawn: "2024-04-01T00:00:00Z"
affected:
- package: {name: gone, ecosystem: PyPI}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: "0"}]
"""

# another ecosystem with the same name: never applies to the PyPI distribution
NPM_JSON = {
    "id": "GHSA-npm0-0000-0000",
    "modified": "2024-05-01T00:00:00Z",
    "affected": [
        {
            "package": {"name": "foo-bar", "ecosystem": "npm"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
        }
    ],
}

# two branches, a GIT range (ignored) and a limit
MULTI_JSON = {
    "id": "PYSEC-2099-5",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2099-0005"],
    "affected": [
        {
            "package": {"name": "JsonPkg", "ecosystem": "PyPI"},
            "ranges": [
                {"type": "GIT", "repo": "https://example.invalid/x", "events": [{"introduced": "0"}]},
                {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.5"}]},
                {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.2"}]},
                {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"limit": "3.1"}]},
            ],
        }
    ],
}


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    root = tmp_path / "advisories"
    files = {
        "vulns/foo-bar/PYSEC-2099-1.yaml": FOO_BAR_YAML,
        "vulns/lastpkg/PYSEC-2099-2.yml": LAST_AFFECTED_YAML,
        "vulns/listed/PYSEC-2099-3.yaml": VERSIONS_LIST_YAML,
        "vulns/gone/PYSEC-2099-4.yaml": WITHDRAWN_YAML,
        "other/npm.json": json.dumps(NPM_JSON),
        "other/deep/jsonpkg.json": json.dumps(MULTI_JSON),
        # not advisories: ignored without error
        ".github/workflows/ci.yaml": "on: push\njobs: {}\n",
        "README.md": "# not read\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run(tmp_path: Path, db: Path, requirements: str, *extra: str) -> subprocess.CompletedProcess[str]:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(requirements, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--db", str(db), "-r", str(reqs), *extra],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def vulnerable_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith("VULNERABLE ")]


def summary(proc: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in proc.stdout.splitlines() if " distributions checked against " in line)


def test_affected_versions_are_reported(tmp_path: Path, db: Path) -> None:
    proc = run(
        tmp_path,
        db,
        "# pinned\n"
        "foo.bar==1.9\n"  # Foo_Bar advisory, introduced 0, fixed 1.10
        "lastpkg==2.3\n"  # last_affected 2.3 is affected
        "Listed_Pkg==0.7\n"  # explicit versions list
        "jsonpkg==2.1\n"  # second ECOSYSTEM range; the 1.5 fix is an older branch
        "diff-insight==0.1.0\n",  # the project itself is never audited
        "--json",
        str(tmp_path / "out.json"),
    )
    assert proc.returncode == 1, proc.stderr
    assert vulnerable_lines(proc) == [
        "VULNERABLE foo.bar 1.9: PYSEC-2099-1 (CVE-2099-0001, GHSA-aaaa-bbbb-cccc) fixed in: 1.10",
        "VULNERABLE lastpkg 2.3: PYSEC-2099-2 fixed in: no fix recorded (last affected 2.3)",
        "VULNERABLE Listed_Pkg 0.7: PYSEC-2099-3 fixed in: no fix recorded",
        "VULNERABLE jsonpkg 2.1: PYSEC-2099-5 (CVE-2099-0005) fixed in: 2.2",
    ]
    # 5 PyPI advisories, one of them withdrawn; the npm record is not counted
    assert summary(proc) == (
        "audit-osv: 4 distributions checked against 4 advisories "
        "(database as of 2024-05-01, newest advisory 'modified' date), 4 known vulnerabilities"
    )
    assert "advisories published after 2024-05-01 are not known to this audit" in proc.stdout
    report = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert report["vulnerabilities"] == 4
    assert report["database"]["withdrawn"] == 1
    by_name = {d["name"]: d for d in report["dependencies"]}
    assert by_name["foo.bar"]["vulns"][0]["aliases"] == ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"]
    assert by_name["jsonpkg"]["vulns"][0]["fix_versions"] == ["2.2"]


@pytest.mark.parametrize(
    "requirement",
    [
        "foo-bar==1.10",  # fixed version (1.10 > 1.9 as a version, not as a float)
        "FOO_BAR==2.0",
        "lastpkg==2.3.1",  # just after last_affected
        "lastpkg==1.9",  # before introduced
        "listed-pkg==0.6",  # not in the versions list
        "gone==1.0",  # withdrawn advisory
        "jsonpkg==0.9",
        "jsonpkg==1.5",
        "jsonpkg==2.2",
        "jsonpkg==3.1",  # at the limit
        "unknown-pkg==1.0",
    ],
)
def test_not_affected(tmp_path: Path, db: Path, requirement: str) -> None:
    proc = run(tmp_path, db, requirement + "\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert vulnerable_lines(proc) == []
    assert summary(proc).endswith(", 0 known vulnerabilities")
    assert summary(proc).startswith("audit-osv: 1 distributions checked against 4 advisories")


@pytest.mark.parametrize(
    ("requirement", "advisory"),
    [
        ("foo-bar==0.1.dev0", "PYSEC-2099-1"),  # introduced "0" covers dev releases
        ("jsonpkg==1.0", "PYSEC-2099-5"),
        ("jsonpkg==1.4.9", "PYSEC-2099-5"),
        ("jsonpkg==3.0.5", "PYSEC-2099-5"),  # below the limit
        ("lastpkg==2.0", "PYSEC-2099-2"),
    ],
)
def test_affected_edges(tmp_path: Path, db: Path, requirement: str, advisory: str) -> None:
    proc = run(tmp_path, db, requirement + "\n")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = vulnerable_lines(proc)
    assert len(lines) == 1
    assert lines[0].startswith(f"VULNERABLE {requirement.replace('==', ' ')}: {advisory}")


def test_missing_database(tmp_path: Path) -> None:
    proc = run(tmp_path, tmp_path / "nope", "foo-bar==1.0\n")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("audit-osv: error: advisory database not found:")


def test_empty_database(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run(tmp_path, tmp_path / "empty", "foo-bar==1.0\n")
    assert proc.returncode == 2
    assert proc.stderr.startswith("audit-osv: error: no OSV advisories found in")


def test_unreadable_requirements(tmp_path: Path, db: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--db", str(db), "-r", str(tmp_path / "missing.txt")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("audit-osv: error: cannot read requirements")


def test_unpinned_requirement(tmp_path: Path, db: Path) -> None:
    proc = run(tmp_path, db, "foo-bar==1.0\nrequests>=2\n")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "requirements.txt:2: not a pinned name==version requirement: requests>=2" in proc.stderr


def test_bare_git_repository(tmp_path: Path, db: Path) -> None:
    """A bare repository is read from HEAD's tree, dated by its commit (a repository made in tmp_path)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": "2024-06-30T12:00:00+00:00",
        "GIT_COMMITTER_DATE": "2024-06-30T12:00:00+00:00",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    bare = tmp_path / "bare.git"

    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", f"--git-dir={bare}", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=True,
        )
        return out.stdout.strip()

    subprocess.run(["git", "init", "-q", "--bare", str(bare)], env=env, cwd=tmp_path, check=True)
    index = {**env, "GIT_INDEX_FILE": str(tmp_path / "index"), "GIT_WORK_TREE": str(db)}
    subprocess.run(["git", f"--git-dir={bare}", "add", "-A", "."], env=index, cwd=db, check=True)
    tree = subprocess.run(
        ["git", f"--git-dir={bare}", "write-tree"], capture_output=True, text=True, env=index, check=True
    ).stdout.strip()
    commit = subprocess.run(
        ["git", f"--git-dir={bare}", "commit-tree", tree, "-m", "db"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    git("update-ref", "HEAD", commit)
    shutil.rmtree(db)  # only the repository remains

    proc = run(tmp_path, bare, "foo-bar==1.0\nlastpkg==2.5\n")
    assert proc.returncode == 1, proc.stderr
    assert vulnerable_lines(proc) == [
        "VULNERABLE foo-bar 1.0: PYSEC-2099-1 (CVE-2099-0001, GHSA-aaaa-bbbb-cccc) fixed in: 1.10"
    ]
    assert summary(proc) == (
        f"audit-osv: 2 distributions checked against 4 advisories "
        f"(database as of 2024-06-30, git commit {commit[:12]}), 1 known vulnerabilities"
    )
