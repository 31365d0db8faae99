"""The command line. It parses arguments, loads the validated config, calls the library and turns
our exceptions into one-line errors. No logic of its own beyond that."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from diff_insight import __version__
from diff_insight.errors import DiffInsightError, first_line

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"diff-insight: error: {message}", err=True)
    sys.exit(code)


def _run_guarded(ctx: click.Context, fn: Callable[[], None]) -> None:
    """Run ``fn``; turn our exceptions into one line (traceback only with --debug)."""
    debug = bool(ctx.find_root().params.get("debug"))
    try:
        fn()
    except DiffInsightError as exc:
        if debug:
            raise
        _fail(first_line(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted; nothing was half-written", 130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if debug:
            raise
        first = first_line(exc, empty="")
        _fail(f"internal error: {type(exc).__name__}: {first} (run with --debug for details)", 1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="diff-insight")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
def cli(debug: bool) -> None:
    """Readable, localized reports of the changes between two commits of a documentation repository."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def _config_option(fn: F) -> F:
    """``--config FILE`` (into ``config_path``), shared by the commands that read a config."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Config file (default: ./diff-insight.toml when present).",
    )(fn)


@cli.command()
@click.argument("source", required=False)
@click.argument("base", required=False)
@click.argument("head", required=False)
@click.option(
    "--compare-json",
    "compare_json",
    metavar="FILE",
    help="Read GitHub compare JSON (GET /repos/{owner}/{repo}/compare/{base}...{head}) instead of git.",
)
@click.option(
    "--github",
    "github",
    metavar="OWNER/NAME",
    help="Read the range from GitHub's compare API (uses GITHUB_TOKEN when set); give BASE HEAD after it.",
)
@click.option(
    "--patch",
    "patch",
    metavar="FILE",
    help="Read a git diff / format-patch file instead of git ('-' = stdin).",
)
@click.option(
    "--locale",
    "locales",
    multiple=True,
    metavar="LOCALE",
    help="Report locale; repeat for several (ja_JP, zh_CN, en_US). Default: the config's, else en_US.",
)
@_config_option
@click.option(
    "--out",
    "out",
    metavar="TEMPLATE",
    help="Output path template: strftime codes plus {category} and {locale}. "
    "Default: reports/{locale}/%Y%m/report-%Y%m%d-{category}.md",
)
@click.option(
    "--out-dir",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Directory the output template is relative to (and may not leave). Default: the current one.",
)
@click.option(
    "--date",
    "day",
    callback=_parse_date,
    metavar="YYYY-MM-DD",
    help="The report's date (default: the head commit's date in the configured time zone, else today).",
)
@click.option(
    "--engine",
    type=click.Choice(["facts", "llm"]),
    default=None,
    help="Who writes the prose: facts (deterministic, default) or llm (needs a provider, see README).",
)
@click.option("--no-cache", is_flag=True, help="LLM engine: do not read or write the answer cache.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="LLM engine: print the model calls and estimated tokens, call nothing, write nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of the written reports.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (and --json output).")
@click.pass_context
def report(
    ctx: click.Context,
    source: str | None,
    base: str | None,
    head: str | None,
    compare_json: str | None,
    github: str | None,
    patch: str | None,
    locales: tuple[str, ...],
    config_path: Path | None,
    out: str | None,
    out_dir: Path | None,
    day: date | None,
    engine: str | None,
    no_cache: bool,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Write Diff Insight Reports for the changes from BASE to HEAD of the git repository SOURCE
    (or of --github OWNER/NAME BASE HEAD, --compare-json FILE, --patch FILE): one per category and locale."""
    if github is not None:
        if source is None or base is None or head is not None:
            raise click.UsageError(
                "--github OWNER/NAME needs BASE and HEAD: diff-insight report --github o/n BASE HEAD"
            )
        gh_base, gh_head = source, base
        source = base = None
    modes = sum(x is not None for x in (source, compare_json, patch, github))
    if modes != 1:
        raise click.UsageError(
            "give either SOURCE BASE HEAD, or --github OWNER/NAME BASE HEAD, or --compare-json FILE, or --patch FILE"
        )
    if source is not None and (base is None or head is None):
        raise click.UsageError("SOURCE needs BASE and HEAD (two commits of the repository)")
    if source is None and (base is not None or head is not None):
        raise click.UsageError("BASE and HEAD go with SOURCE, not with --compare-json or --patch")

    def go() -> None:
        from diff_insight.request import ReportRequest, start_source

        root = (out_dir or Path.cwd()).absolute()
        if github is not None:
            request = ReportRequest("github", github, gh_base, gh_head, day=day, out_root=root)
        elif compare_json is not None:
            request = ReportRequest("compare-json", compare_json, day=day, out_root=root)
        elif patch is not None:
            request = ReportRequest("patch", patch, day=day, out_root=root)
        else:
            assert source is not None
            request = ReportRequest("git", source, base, head, day=day, out_root=root)
        # A local repository is read while the config is validated and the analysis and the
        # writers are imported: reading it has no effect outside this process, and its result
        # (or its error) is only looked at once the config is valid. The other inputs (the
        # network, stdin) are only touched after that.
        opening = start_source(request) if request.kind == "git" else None
        try:
            from diff_insight.config import load_config

            config = load_config(config_path, required=config_path is not None)
            overrides: dict[str, Any] = {}
            if locales:
                overrides["locales"] = list(locales)
            if out:
                overrides["out"] = out
            if overrides:
                config = config.with_overrides(**overrides)
        except BaseException:
            if opening is not None:
                opening.discard()
            raise
        if opening is None:
            opening = start_source(request)
        from diff_insight.pipeline import EngineOptions, generate_reports

        progress = None if quiet else _rich_progress()
        result = generate_reports(
            request,
            config,
            progress=progress,
            warn=None if quiet else lambda m: click.echo(f"warning: {m}", err=True),
            engine=EngineOptions(engine=engine, no_cache=no_cache, dry_run=dry_run),  # type: ignore[arg-type]
            source=opening,
        )
        if dry_run:
            total = sum(c.input_tokens for c in result.planned)
            for c in result.planned:
                click.echo(
                    f"{c.kind:8} {c.role:6} ~{c.input_tokens:6d} tokens  {len(c.paths)} file(s): "
                    + ", ".join(c.paths[:3])
                    + (" …" if len(c.paths) > 3 else "")
                )
            click.echo(
                f"{len(result.planned)} call(s), ~{total} input tokens (estimated); nothing was called "
                "or written",
                err=True,
            )
            return
        _print_reports(result.reports, as_json, quiet)
        if not quiet:
            n_files = len(result.changeset.files)
            line = f"{len(result.reports)} report(s) for {n_files} changed file(s)"
            if result.usage is not None:
                u = result.usage
                line += (
                    f"; llm: {u['calls']} call(s), {u['cache_hits']} cache hit(s), {u['input_tokens']} input "
                    f"and {u['output_tokens']} output tokens, {u['fallbacks']} fallback(s)"
                )
            click.echo(line, err=True)

    _run_guarded(ctx, go)


def _common_engine_options(fn: F) -> F:
    for deco in reversed(
        [
            _config_option,
            click.option(
                "--repo",
                "repo",
                metavar="PATH|URL",
                help="Local git repository, git URL or GitHub owner/name (default: the config's "
                "source.path or [[repositories]]).",
            ),
            click.option(
                "--branch", metavar="NAME", help="Branch to follow (default: the config's source.branch)."
            ),
            click.option(
                "--out-dir",
                "out_dir",
                type=click.Path(path_type=Path, file_okay=False),
                metavar="DIR",
                help="Directory of the reports and of .diff-insight/ (state, cache). Default: the current one.",
            ),
            click.option(
                "--engine", type=click.Choice(["facts", "llm"]), default=None, help="Who writes the prose."
            ),
            click.option("--no-cache", is_flag=True, help="LLM engine: bypass the answer cache."),
            click.option(
                "--wait", is_flag=True, help="Wait for another run on the same repository instead of failing."
            ),
            click.option(
                "--json", "as_json", is_flag=True, help="Print a JSON array of the written reports."
            ),
            click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (and --json output)."),
        ]
    ):
        fn = deco(fn)
    return fn


def _daily_targets(config_path: Path | None, repo: str | None, branch: str | None) -> tuple[Any, list[Any]]:
    """The loaded config and the repositories to run: ``--repo`` (with the top-level settings),
    else the config's ``[[repositories]]``, else its ``[source]``."""
    from dataclasses import replace

    from diff_insight.config import Target, load_config
    from diff_insight.errors import ConfigError

    config = load_config(config_path, required=config_path is not None)
    if repo is not None:
        top = config.replaced(repositories=[])
        return config, [Target(source=repo, branch=branch or config.source.branch, config=top)]
    targets = config.targets()
    if branch is not None:
        if len(targets) > 1:
            raise ConfigError("--branch needs --repo when the config lists several [[repositories]]")
        targets = [replace(targets[0], branch=branch)]
    if targets[0].source is None:
        raise ConfigError("no repository: give --repo PATH or set source.path in the config")
    return config, targets


def _open_target(config: Any, target: Any, *, from_config: bool, out_root: Path, wait: bool) -> str:
    """The local repository path of ``target``: the directory itself, or an updated mirror."""
    from diff_insight.mirror import ensure_mirror, resolve_source

    base_dir = config.source_path.parent if from_config and config.source_path is not None else None
    kind, value = resolve_source(target.source, base_dir)
    if kind == "local":
        return str(value)
    mirror_root = Path(config.source.mirror_dir)
    if not mirror_root.is_absolute():
        mirror_root = out_root / mirror_root
    return str(ensure_mirror(value, mirror_root, branch=target.branch, wait=wait))


def _for_each_target(
    ctx: click.Context,
    targets: list[Any],
    quiet: bool,
    one: Callable[[Any], tuple[list[Any], str]],
    as_json: bool,
) -> None:
    """Run ``one`` (returning reports and a summary line) for every target. A single target
    behaves as before (its error is the command's error); with several, each gets one line, a
    failing one is reported and the others still run, and the exit code is 1 if any failed."""
    if len(targets) == 1:
        reports, line = one(targets[0])
        _print_reports(reports, as_json, quiet)
        if not quiet:
            click.echo(line, err=True)
        return
    from diff_insight.mirror import public_url

    debug = bool(ctx.find_root().params.get("debug"))
    everything: list[Any] = []
    failed = 0
    for target in targets:
        label = f"{public_url(target.source)} ({target.branch})"
        try:
            reports, line = one(target)
        except DiffInsightError as exc:
            if debug:
                raise
            failed += 1
            first = first_line(exc)
            click.echo(f"diff-insight: error: {label}: {first}", err=True)
            continue
        except Exception as exc:  # noqa: BLE001 - one repository must not stop the others
            if debug:
                raise
            failed += 1
            first = first_line(exc, empty="")
            click.echo(
                f"diff-insight: error: {label}: internal error: {type(exc).__name__}: {first}", err=True
            )
            continue
        everything.extend(reports)
        if not as_json:
            _print_reports(reports, False, quiet)
        if not quiet:
            click.echo(f"{label}: {line}", err=True)
    if as_json:
        _print_reports(everything, True, quiet)
    if failed:
        if not quiet:
            click.echo(f"{failed} of {len(targets)} repositories failed", err=True)
        sys.exit(1)


def _print_reports(reports: Any, as_json: bool, quiet: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"path": str(r.path), "category": r.category, "locale": r.locale, "files": r.files}
                    for r in reports
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
    elif not quiet:
        for r in reports:
            click.echo(f"{r.path}  ({r.category}, {r.locale}, {r.files} files)")


@cli.command("run")
@_common_engine_options
@click.option(
    "--since",
    metavar="REV",
    help="First run only: report from this commit instead of the head commit's own change.",
)
@click.pass_context
def run_cmd(
    ctx: click.Context,
    config_path: Path | None,
    repo: str | None,
    branch: str | None,
    out_dir: Path | None,
    engine: str | None,
    no_cache: bool,
    wait: bool,
    as_json: bool,
    quiet: bool,
    since: str | None,
) -> None:
    """Report what is new on the branch since the last run (state in OUT_DIR/.diff-insight/state)."""

    def go() -> None:
        from diff_insight.daily import run_incremental
        from diff_insight.pipeline import EngineOptions

        config, targets = _daily_targets(config_path, repo, branch)
        say = None if quiet else (lambda m: click.echo(f"warning: {m}", err=True))
        out_root = (out_dir or Path.cwd()).absolute()

        def one(target: Any) -> tuple[list[Any], str]:
            path = _open_target(config, target, from_config=repo is None, out_root=out_root, wait=wait)
            outcome = run_incremental(
                path,
                target.branch,
                target.config,
                out_root=out_root,
                since=since,
                engine=EngineOptions(engine=engine, no_cache=no_cache),  # type: ignore[arg-type]
                warn=say,
                wait=wait,
            )
            return outcome.reports, outcome.message

        _for_each_target(ctx, targets, quiet, one, as_json)

    _run_guarded(ctx, go)


@cli.command()
@_common_engine_options
@click.option(
    "--since", "since_day", required=True, callback=_parse_date, metavar="YYYY-MM-DD", help="First day."
)
@click.option(
    "--until", "until_day", required=True, callback=_parse_date, metavar="YYYY-MM-DD", help="Last day."
)
@click.pass_context
def backfill(
    ctx: click.Context,
    config_path: Path | None,
    repo: str | None,
    branch: str | None,
    out_dir: Path | None,
    engine: str | None,
    no_cache: bool,
    wait: bool,
    as_json: bool,
    quiet: bool,
    since_day: date,
    until_day: date,
) -> None:
    """One report set per day with commits, for past days (days in the configured time zone)."""

    def go() -> None:
        from diff_insight.daily import backfill as do_backfill
        from diff_insight.daily import summarize
        from diff_insight.pipeline import EngineOptions

        config, targets = _daily_targets(config_path, repo, branch)
        say = None if quiet else (lambda m: click.echo(f"warning: {m}", err=True))
        out_root = (out_dir or Path.cwd()).absolute()

        def one(target: Any) -> tuple[list[Any], str]:
            path = _open_target(config, target, from_config=repo is None, out_root=out_root, wait=wait)
            days = do_backfill(
                path,
                target.branch,
                target.config,
                out_root=out_root,
                since=since_day,
                until=until_day,
                engine=EngineOptions(engine=engine, no_cache=no_cache),  # type: ignore[arg-type]
                warn=say,
                wait=wait,
            )
            return [r for d in days for r in d.reports], summarize(days)

        _for_each_target(ctx, targets, quiet, one, as_json)

    _run_guarded(ctx, go)


@cli.command("example-repo")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--force", is_flag=True, help="Replace DIRECTORY if it exists.")
@click.option(
    "--config-out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also write the example's diff-insight.toml to FILE.",
)
@click.pass_context
def example_repo(ctx: click.Context, directory: Path, force: bool, config_out: Path | None) -> None:
    """Build the built-in example documentation repository in DIRECTORY (tags: base, head)."""

    def go() -> None:
        from diff_insight.example import CONFIG, build_example

        base, head = build_example(directory, force=force)
        if config_out is not None:
            config_out.parent.mkdir(parents=True, exist_ok=True)
            config_out.write_text(CONFIG, encoding="utf-8")
        click.echo(f"example repository: {directory}  base={base[:7]} head={head[:7]}", err=True)

    _run_guarded(ctx, go)


@cli.group("site")
def site_group() -> None:
    """Build or preview the static website of the reports."""


def _site_options(fn: F) -> F:
    for deco in reversed(
        [
            click.argument("reports_dir", required=False, type=click.Path(path_type=Path, file_okay=False)),
            click.argument("out_dir", required=False, type=click.Path(path_type=Path, file_okay=False)),
            _config_option,
            click.option("--strict", is_flag=True, help="Fail on a file that is not a valid report."),
            click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors."),
        ]
    ):
        fn = deco(fn)
    return fn


def _site_setup(config_path: Path | None, reports_dir: Path | None, out_dir: Path | None) -> Any:
    from diff_insight.config import load_config
    from diff_insight.site import resolve_dirs

    config = load_config(config_path, required=config_path is not None)
    reports, out = resolve_dirs(config, reports_dir, out_dir)
    return config.site, reports, out


@site_group.command("build")
@_site_options
@click.pass_context
def site_build(
    ctx: click.Context,
    reports_dir: Path | None,
    out_dir: Path | None,
    config_path: Path | None,
    strict: bool,
    quiet: bool,
) -> None:
    """Build the website from the reports in REPORTS_DIR into OUT_DIR (defaults: [site] reports_dir,
    out_dir); a rebuild rewrites only what changed."""

    def go() -> None:
        from diff_insight.site import build_site

        settings, reports, out = _site_setup(config_path, reports_dir, out_dir)
        say = None if quiet else (lambda m: click.echo(f"warning: {m}", err=True))
        summary = build_site(reports, out, settings, strict=strict, warn=say)
        if not quiet:
            click.echo(
                f"site: {summary.reports} report(s) in {len(summary.locales)} locale(s) -> {out}: "
                f"{len(summary.written)} file(s) written, {summary.unchanged} unchanged, "
                f"{len(summary.deleted)} deleted",
                err=True,
            )

    _run_guarded(ctx, go)


@site_group.command("serve")
@_site_options
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.pass_context
def site_serve(
    ctx: click.Context,
    reports_dir: Path | None,
    out_dir: Path | None,
    config_path: Path | None,
    strict: bool,
    quiet: bool,
    port: int,
) -> None:
    """Build the website, serve it on http://127.0.0.1:PORT/ and rebuild when a report changes."""

    def go() -> None:
        from diff_insight.site.serve import SiteServer

        settings, reports, out = _site_setup(config_path, reports_dir, out_dir)
        say = None if quiet else (lambda m: click.echo(m, err=True))
        server = SiteServer(reports, out, settings, port=port, strict=strict, say=say)
        click.echo(f"serving {out} at {server.url} (Ctrl-C to stop)", err=True)
        click.echo(server.url)
        sys.stdout.flush()
        server.serve_forever()

    _run_guarded(ctx, go)


def _rich_progress() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from diff_insight.pipeline import Progress as ProgressProto

    console = Console(stderr=True)

    class RichProgress(ProgressProto):
        def __init__(self) -> None:
            self._p: Progress | None = None
            self._task: Any = None

        def start(self, phase: str, total: int) -> None:
            if not console.is_terminal or total < 50:
                return
            self._p = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._p.start()
            self._task = self._p.add_task(phase, total=total)

        def advance(self, n: int = 1) -> None:
            if self._p is not None:
                self._p.advance(self._task, n)

        def stop(self) -> None:
            if self._p is not None:
                self._p.stop()
                self._p = None

    return RichProgress()


def main() -> None:
    """The console script: run the command, then end the process at once (:func:`_end`)."""
    try:
        cli(prog_name="diff-insight")
    except SystemExit as done:
        _end(done.code)
    _end(0)


def _end(status: object) -> NoReturn:
    """Exit with ``status`` (as :class:`SystemExit` reads it) without the interpreter's teardown,
    which would free every object still alive one by one (tens of milliseconds after a large
    range). Nothing is lost: every file of ours is written, fsynced and closed before a command
    returns, and logging and the standard streams are flushed here, as the normal exit would."""
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:
        print(status, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the exit status says so, as Python's does
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    main()
