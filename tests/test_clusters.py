"""Clusters of files that carry the same edit (modelled on the seed's nine dall-e-*.md quickstarts)."""

from __future__ import annotations

from tests.analysis_helpers import analyze

from diff_insight.analysis.clusters import cluster_files

NOTE_A = "> The image generation APIs come with a content moderation filter. For more information, see the article.\n"
NOTE_B = "The image generation APIs come with a content moderation filter. For details, see [Content filtering](cf.md).\n"
NOTE_C = (
    "The image generation APIs come with a content moderation filter. For examples, see the "
    "[DALL-E how-to guide](../how-to/dall-e.md).\n"
)
NEXT = (
    "* Explore the image generation APIs in more depth with the [DALL-E how-to guide](../how-to/dall-e.md).\n"
)


def quickstart(lang: str, note: str, padding: int) -> str:
    filler = "".join(f"Step {i} for {lang}.\n\n" for i in range(padding))
    return f"# Quickstart {lang}\n\n{filler}{note}\n## Clean up\n\nDelete the resource.\n\n## Next steps\n\n{NEXT}"


def edit(text: str) -> str:
    return (
        text.replace("image generation APIs", "Image APIs").replace(
            "[DALL-E how-to guide](../how-to/dall-e.md).\n",
            "[Image API how-to guide](../how-to/dall-e.md).\n",
            1,
        )
        if text.count("DALL-E how-to guide") == 1
        else text.replace("image generation APIs", "Image APIs").replace(
            "in more depth with the [DALL-E how-to guide]", "in more depth with the [Image API how-to guide]"
        )
    )


def test_nine_quickstarts_form_one_cluster_and_others_stay_out() -> None:
    langs = ["dotnet", "go", "java", "javascript", "typescript"]
    analyses = []
    for i, lang in enumerate(langs):  # five byte-identical edits at different line numbers
        old = quickstart(lang, NOTE_A, 3 + i)
        analyses.append(analyze(old, edit(old), f"includes/dall-e-{lang}.md", full=False))
    for i, lang in enumerate(["powershell", "python"]):  # an identical pair, other sentences
        old = quickstart(lang, NOTE_B, 5 + i)
        analyses.append(analyze(old, edit(old), f"includes/dall-e-{lang}.md"))
    for lang, note in (("rest", NOTE_C), ("studio", NOTE_A.replace("the article", "Content filtering"))):
        old = quickstart(lang, note, 2)
        analyses.append(analyze(old, edit(old), f"includes/dall-e-{lang}.md"))
    # unrelated files: a different replacement, and a date bump
    other = quickstart("x", NOTE_A, 1)
    analyses.append(analyze(other, other.replace("Delete the resource", "Remove the resource"), "other.md"))
    analyses.append(analyze("---\nms.date: 1\n---\n# T\n", "---\nms.date: 2\n---\n# T\n", "dated.md"))

    keys = [a.change_key for a in analyses]
    assert len(set(keys[:5])) == 1 and keys[5] == keys[6] != keys[0]
    clusters = cluster_files(analyses)
    assert len(clusters) == 1
    c = clusters[0]
    assert c.paths == tuple(a.path for a in analyses[:9])
    assert set(c.replacements) == {("image generation", "Image"), ("DALL-E", "Image API")}
    assert c.identical is False


def test_identical_edits_cluster_even_without_replacements() -> None:
    old = "# T\n\nIntro.\n"
    a = analyze(old, old + "\nA new shared sentence.\n", "a.md")
    b = analyze("# U\n\nOther.\n" * 3, "# U\n\nOther.\n" * 3 + "\nA new shared sentence.\n", "b.md")
    c = analyze(old, old + "\nSomething else.\n", "c.md")
    clusters = cluster_files([a, b, c])
    assert [cl.paths for cl in clusters] == [("a.md", "b.md")]
    assert clusters[0].identical is True and clusters[0].replacements == ()


def test_no_clusters_for_single_files() -> None:
    assert cluster_files([analyze("# T\n", "# T2\n", "a.md")]) == []
