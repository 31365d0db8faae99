"""Clustering of files that carry the same edit."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from diff_insight.analysis.facts import Cluster, FileAnalysis


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def cluster_files(analyses: Sequence[FileAnalysis]) -> list[Cluster]:
    """Group files whose changed lines are identical (ignoring line numbers and context), or whose
    body edits consist of the same set of word-level replacements. Only groups of two or more are
    returned, in the order of their first member; members keep diff order."""
    uf = _UnionFind(len(analyses))
    by_key: dict[str, int] = {}
    by_reps: dict[frozenset[tuple[str, str]], int] = {}
    for i, a in enumerate(analyses):
        if a.change_key is not None:
            j = by_key.setdefault(a.change_key, i)
            uf.union(i, j)
        if a.replacements:
            reps = frozenset(a.replacements)
            j = by_reps.setdefault(reps, i)
            uf.union(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(len(analyses)):
        groups.setdefault(uf.find(i), []).append(i)
    out: list[Cluster] = []
    for members in sorted(groups.values(), key=lambda m: m[0]):
        if len(members) < 2:
            continue
        paths = tuple(analyses[i].path for i in members)
        shared = frozenset(analyses[members[0]].replacements)
        for i in members[1:]:
            shared &= frozenset(analyses[i].replacements)
        keys = {analyses[i].change_key for i in members}
        cid = (
            "cluster-" + hashlib.sha1("\n".join(paths).encode("utf-8"), usedforsecurity=False).hexdigest()[:8]
        )
        out.append(
            Cluster(
                id=cid,
                paths=paths,
                replacements=tuple(sorted(shared)),
                identical=len(keys) == 1 and None not in keys,
            )
        )
    return out
