"""A small, realistic documentation repository built with git, for the README's example and tests.

Two tagged commits, ``base`` and ``head``, whose range shows every kind of change the analysis knows:
a new article, a removed one, a rename, a new section with a parameter table, a term replaced the same
way in several files (a cluster), date bumps, a link fix, a code fix, a TOC edit, a new image and a
formatting-only edit, in two categories plus files that match none.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

from diff_insight.errors import InputError

CONFIG = """\
# diff-insight configuration for the built-in example repository
locales = ["ja_JP", "zh_CN", "en_US"]
timezone = "UTC"

[categories]
vision = ["articles/vision"]
search = ["articles/search"]

[catch_all]
enabled = true
name = "other"
"""

_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _fm(title: str, date: str, extra: str = "") -> str:
    return (
        f"---\ntitle: {title}\ndescription: Learn about {title.lower()}.\nms.service: fabrikam-vision\n"
        f"ms.topic: conceptual\nms.date: {date}\n{extra}---\n\n"
    )


_QS_BODY = """\
# Quickstart: Generate images with {lang}

Use this quickstart to generate your first image with the Fabrikam Vision service.

## Prerequisites

- An Azure subscription.
- A Fabrikam Vision resource.

## Generate an image

```{code}
{sample}
```

> [!NOTE]
> The DALL-E APIs come with a content moderation filter. If the service recognizes your prompt as harmful content, it doesn't return an image.

## Next steps

* Explore the DALL-E APIs in more depth with the [DALL-E how-to guide](../how-to/generate-images.md).
"""

BASE_FILES: dict[str, str | bytes] = {
    "articles/vision/overview.md": _fm("Fabrikam Vision overview", "01/15/2025")
    + """\
# What is Fabrikam Vision?

Fabrikam Vision gives you access to DALL-E models that generate images from text.

## Features

| Feature | Description |
|---|---|
| Image generation | Create images from a text prompt with DALL-E models. |
| Variations | Create variations of an existing image. |

## Get started

See the [quickstart](quickstart.md) and the [pricing page](https://example.com/pricing-old).
""",
    "articles/vision/how-to/generate-images.md": _fm("How to generate images", "01/20/2025")
    + """\
# How to generate images

This article shows how to call the image generation API.

## Call the API

Send a POST request to the `images/generations` endpoint.

```http
POST https://{endpoint}/vision/images/generations?api-version=2024-10-01
```

## Write prompts

Describe the image you want in plain language. Be specific about style and content.
""",
    "articles/vision/includes/quickstart-python.md": _QS_BODY.format(
        lang="Python",
        code="python",
        sample='client = VisionClient(endpoint)\nresult = client.generate("a cat")\nprint(result.url)',
    ),
    "articles/vision/includes/quickstart-rest.md": _QS_BODY.format(
        lang="REST",
        code="bash",
        sample='curl -X POST "$ENDPOINT/vision/images/generations" -d \'{"prompt": "a cat"}\'',
    ),
    "articles/vision/includes/quickstart-cli.md": _QS_BODY.format(
        lang="the CLI", code="bash", sample='fabrikam vision generate --prompt "a cat"'
    ),
    "articles/vision/legacy-variations.md": _fm("Image variations (retired)", "06/01/2024")
    + """\
# Image variations

Image variations are available for DALL-E 2 only.

## Create a variation

Upload a square PNG image smaller than 4 MB.
""",
    "articles/vision/concepts/content-safety.md": _fm("Content safety", "02/01/2025")
    + """\
# Content safety

Every prompt is checked by the content filter.

- Prompts are   checked before generation.
- Images are checked after generation.
""",
    "articles/vision/toc.yml": """\
items:
  - name: Overview
    href: overview.md
  - name: DALL-E quickstart
    href: quickstart.md
  - name: How to generate images
    href: how-to/generate-images.md
  - name: Image variations
    href: legacy-variations.md
""",
    "articles/search/query-syntax.md": _fm("Query syntax", "03/01/2025")
    + """\
# Query syntax

Use the `search` parameter to send a full-text query. See the [syntax reference](https://example.com/serch-syntax).

```python
results = client.search(search_text="hotel", top=10)
for r in results
    print(r["name"])
```
""",
    "articles/search/tutorial-index.md": _fm("Tutorial: Create an index", "03/05/2025")
    + """\
# Tutorial: Create an index

In this tutorial you create your first search index.
""",
    "CONTRIBUTING.md": "# Contributing\n\nOpen a pull request against the main branch.\n",
}


def _head_files() -> dict[str, str | bytes | None]:
    """The changes of the ``head`` commit (None deletes a file)."""
    qs_new = {
        k: str(v)
        .replace("The DALL-E APIs come with", "The Image APIs come with")
        .replace(
            "Explore the DALL-E APIs in more depth with the [DALL-E how-to guide]",
            "Explore the Image APIs in more depth with the [Image API how-to guide]",
        )
        for k, v in BASE_FILES.items()
        if "includes/quickstart-" in k
    }
    overview = str(BASE_FILES["articles/vision/overview.md"])
    overview = (
        overview.replace("01/15/2025", "04/23/2025")
        .replace("access to DALL-E models", "access to image generation models")
        .replace("with DALL-E models.", "with image generation models.")
        .replace("https://example.com/pricing-old", "https://example.com/pricing")
        .replace(
            "| Variations | Create variations of an existing image. |\n",
            "| Image editing | Edit an existing image with a text prompt. |\n",
        )
    )
    how_to = str(BASE_FILES["articles/vision/how-to/generate-images.md"]).replace("01/20/2025", "04/23/2025")
    how_to = how_to.replace(
        "## Write prompts",
        """\
## Specify API options

The request body accepts the following parameters.

| Parameter | Type | Description |
|---|---|---|
| `prompt` | string | The text that describes the image. |
| `size` | string | The size of the image: `1024x1024`, `1536x1024` or `1024x1536`. |
| `quality` | string | `low`, `medium` or `high`. |
| `output_format` | string | `png` or `jpeg`. |

> [!TIP]
> Larger images take longer to generate.

## Write prompts""",
    )
    search = (
        str(BASE_FILES["articles/search/query-syntax.md"])
        .replace("https://example.com/serch-syntax", "https://example.com/search-syntax")
        .replace("for r in results\n", "for r in results:\n")
    )
    safety = str(BASE_FILES["articles/vision/concepts/content-safety.md"]).replace(
        "- Prompts are   checked before generation.\n- Images are checked after generation.\n",
        "* Prompts are checked before generation.\n* Images are checked after generation.\n",
    )
    toc = (
        str(BASE_FILES["articles/vision/toc.yml"])
        .replace("  - name: DALL-E quickstart\n", "  - name: Image generation quickstart\n")
        .replace(
            "  - name: Image variations\n    href: legacy-variations.md\n",
            "  - name: Edit images\n    href: how-to/edit-images.md\n",
        )
    )
    edit = (
        _fm("How to edit images", "04/23/2025")
        + """\
# How to edit images

Image editing changes part of an existing image according to a text prompt.

## Prerequisites

- A deployment of an image generation model that supports editing.

## Send an edit request

Send the image, an optional mask and a prompt to the `images/edits` endpoint.

```http
POST https://{endpoint}/vision/images/edits?api-version=2025-04-01-preview
```

## Limits

Images must be PNG or JPEG files smaller than 25 MB.
"""
    )
    out: dict[str, str | bytes | None] = dict(qs_new)
    out.update(
        {
            "articles/vision/overview.md": overview,
            "articles/vision/how-to/generate-images.md": how_to,
            "articles/vision/how-to/edit-images.md": edit,
            "articles/vision/media/edit-flow.png": _PNG,
            "articles/vision/legacy-variations.md": None,
            "articles/vision/concepts/content-safety.md": safety,
            "articles/vision/toc.yml": toc,
            "articles/search/query-syntax.md": search,
            "CONTRIBUTING.md": "# Contributing\n\nOpen a pull request against the `main` branch.\n"
            "Run the link checker before you submit.\n",
        }
    )
    return out


def _git(repo: Path, *args: str, env: dict[str, str]) -> str:
    try:
        res = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise InputError("git is not installed or not on PATH") from None
    except subprocess.CalledProcessError as exc:
        raise InputError(f"git {args[0]} failed in {repo}: {exc.stderr.strip().splitlines()[-1:]}") from None
    return res.stdout.strip()


def _write(repo: Path, path: str, content: str | bytes | None) -> None:
    target = repo / path
    if content is None:
        target.unlink()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8", newline="\n")


def build_example(directory: Path, *, force: bool = False) -> tuple[str, str]:
    """Create the example repository in ``directory``; return the (base, head) commit SHAs."""
    if directory.exists() and any(directory.iterdir()):
        if not force:
            raise InputError(f"{directory} exists and is not empty; pass --force to replace it")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Example Writer",
        "GIT_AUTHOR_EMAIL": "writer@example.com",
        "GIT_COMMITTER_NAME": "Example Writer",
        "GIT_COMMITTER_EMAIL": "writer@example.com",
    }
    _git(directory, "init", "-q", "-b", "main", env=env)
    _git(directory, "remote", "add", "origin", "https://github.com/fabrikam/vision-docs.git", env=env)
    for path, content in BASE_FILES.items():
        _write(directory, path, content)
    _git(directory, "add", "-A", env=env)
    env_base = {
        **env,
        "GIT_AUTHOR_DATE": "2025-04-22T10:00:00+00:00",
        "GIT_COMMITTER_DATE": "2025-04-22T10:00:00+00:00",
    }
    _git(directory, "commit", "-q", "-m", "Initial documentation", env=env_base)
    _git(directory, "tag", "base", env=env)
    # the rename first, so git sees it as a rename with edits
    _git(
        directory,
        "mv",
        "articles/search/tutorial-index.md",
        "articles/search/tutorial-create-index.md",
        env=env,
    )
    for path, new_content in _head_files().items():
        _write(directory, path, new_content)
    renamed = directory / "articles/search/tutorial-create-index.md"
    renamed.write_text(
        renamed.read_text(encoding="utf-8").replace("03/05/2025", "04/23/2025"), encoding="utf-8"
    )
    _git(directory, "add", "-A", env=env)
    env_head = {
        **env,
        "GIT_AUTHOR_DATE": "2025-04-23T18:30:00+00:00",
        "GIT_COMMITTER_DATE": "2025-04-23T18:30:00+00:00",
    }
    _git(directory, "commit", "-q", "-m", "Image generation: new models, edit API, terminology", env=env_head)
    _git(directory, "tag", "head", env=env)
    return _git(directory, "rev-parse", "base", env=env), _git(directory, "rev-parse", "head", env=env)
