"""The CLI grammar every subcommand shares (`pdguard.cligrammar`): one way to say things.

* ``--format KIND[=FILE]`` (repeatable) wherever the output can be chosen; ``-o/--output FILE``
  for the one format given without ``=FILE``; at most one format goes to standard output.
  :func:`format_options` adds both; :func:`parse_formats` turns them into :class:`FormatSpec`\\s;
  :func:`emit` renders each to stdout or (through :func:`pdguard.fileout.write_output`) a file.
* ``--snapshot FILE`` always *reads* a snapshot; ``--save-snapshot FILE`` writes one.
* Global options (``--config FILE``, ``-v/--verbose``) are accepted before or after the
  subcommand: :func:`install_global_options` adds them to every subcommand of a group.
  ``-v``: retries and rate-limit waits (and warnings, always shown); ``-vv``: every HTTP request.
* Old spellings keep working and print a one-line note on stderr: :func:`deprecated`.

Usage in a command::

    @click.command()
    @format_options(("table", "json"), default="table")
    def cmd(formats, output): ...
        specs = parse_formats(formats, output, kinds=("table", "json"), default="table")
        emit(specs, {"table": lambda: text, "json": lambda: json_text})
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from pdguard.errors import ConfigError
from pdguard.textsafe import safe_text


@dataclass
class FormatSpec:
    """One requested output: a format name and a file (None: standard output)."""

    name: str
    path: str | None = None


PathArgs = Mapping[str, "str | Sequence[str] | None"]


def _file_identity(path: str) -> tuple[Any, ...] | None:
    """What `path` ends up writing or reading: (device, inode) of an existing regular file (through
    symlinks and hard links), else the resolved path; None for stdout, devices and FIFOs (``/dev/null``
    twice is fine)."""
    if path in ("", "-"):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    if not stat.S_ISREG(st.st_mode):
        return None
    return ("inode", st.st_dev, st.st_ino)


def refuse_clobbering(outputs: PathArgs, inputs: PathArgs | None = None) -> None:
    """Two outputs of one run on the same file (the second would silently replace the first), or an
    output on one of the run's input files (``check --snapshot s.json --format json=s.json`` replaced
    the snapshot with the report), are one-line :class:`ConfigError`\\s (exit 2), before anything
    is read or written; so is an output that is a dangling symlink (:func:`pdguard.fileout.refuse_dangling`,
    exit 2). `outputs`/`inputs`: {how the user named it: path or paths}."""
    from pdguard.fileout import refuse_dangling

    def flat(args: PathArgs | None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for label, value in (args or {}).items():
            for v in [value] if isinstance(value, str) else list(value or ()):
                if v:
                    out.append((label, v))
        return out

    def show(label: str, path: str) -> str:  # "--format json=r.json", "--snapshot s.json"
        return f"{label}{'' if label.endswith('=') else ' '}{safe_text(path)}"

    seen: dict[tuple[Any, ...], str] = {}
    for label, path in flat(inputs):
        ident = _file_identity(path)
        if ident is not None:
            seen.setdefault(ident, f"the input {show(label, path)}")
    for label, path in flat(outputs):
        refuse_dangling(path, shown=show(label, path))
        ident = _file_identity(path)
        if ident is None:
            continue
        if ident in seen:
            raise ConfigError(f"{show(label, path)} would overwrite {seen[ident]}: write it to another file")
        seen[ident] = show(label, path)


def parse_formats(values: Sequence[str] | None, output: str | None, *, kinds: Iterable[str],
                  default: str | Sequence[str] = "table", option: str = "--format",
                  inputs: PathArgs | None = None, also_writes: PathArgs | None = None) -> list[FormatSpec]:
    """``--format KIND[=FILE]`` values (+ ``-o FILE`` for the one without a file) → specs.

    Unknown kinds, an empty ``=``, several formats on stdout, or ``-o`` with no (or several)
    file-less formats are one-line :class:`ConfigError`\\s (exit 2); so are two outputs on one
    file, or an output on one of the command's `inputs` (:func:`refuse_clobbering`; `also_writes`:
    the command's other outputs, e.g. ``--save-snapshot``).
    """
    known = list(kinds)
    defaults = [default] if isinstance(default, str) else list(default)
    specs: list[FormatSpec] = []
    for v in values or defaults:
        name, eq, path = v.partition("=")
        name = name.strip().lower()
        if name not in known:
            raise ConfigError(f"{option}: unknown output format '{safe_text(name)}' (choose from {', '.join(known)})")
        if eq and not path:
            raise ConfigError(f"{option} {name}=: the file name is missing (use {name}=FILE, or {name} for stdout)")
        specs.append(FormatSpec(name, path or None))
    if output:
        open_specs = [s for s in specs if s.path is None]
        if len(open_specs) != 1:
            raise ConfigError("-o/--output applies to exactly one --format given without '=FILE'")
        open_specs[0].path = output
    stdout = [s for s in specs if s.path is None or s.path == "-"]
    if len(stdout) > 1:
        raise ConfigError(f"only one {option} can go to standard output; give the others a file: "
                          f"{option} {stdout[-1].name}=FILE")
    outputs: dict[str, list[str]] = {k: [v] if isinstance(v, str) else list(v or ()) for k, v in (also_writes or {}).items()}
    for spec in specs:
        if spec.path is not None:
            outputs.setdefault(f"{option} {spec.name}=" if spec.path != output else "-o/--output", []).append(spec.path)
    refuse_clobbering(outputs, inputs)
    return specs


def format_options(kinds: Sequence[str], *, default: str = "table", output_help: str | None = None) -> Callable[[Any], Any]:
    """Add ``--format KIND[=FILE]`` (repeatable, param ``formats``) and ``-o/--output FILE``."""

    def deco(f: Any) -> Any:
        f = click.option("-o", "--output", "output", metavar="FILE",
                         help=output_help or "Write the format given without '=FILE' to FILE (atomically).")(f)
        f = click.option("--format", "formats", multiple=True, metavar="KIND[=FILE]",
                         help=f"{'|'.join(kinds)} (default {default}); repeatable; '=FILE' writes that one to a "
                              "file.")(f)
        return f

    return deco


def emit(specs: list[FormatSpec], renderers: dict[str, Callable[[], str]], *, what: str = "output") -> list[str]:
    """Render each spec (once per kind) to stdout or its file; returns the files written."""
    from pdguard.fileout import write_output

    cache: dict[str, str] = {}
    written: list[str] = []
    for spec in specs:
        if spec.name not in cache:
            cache[spec.name] = renderers[spec.name]()
        text = cache[spec.name]
        if not text.endswith("\n"):
            text += "\n"
        if spec.path is None or spec.path == "-":
            click.echo(text, nl=False)
        else:
            write_output(spec.path, text, what=f"{spec.name} {what}")
            written.append(spec.path)
    return written


def deprecated(old: str, new: str) -> None:
    """A one-line note on stderr; the old spelling still works. (Each old spelling is an option of
    one command, handled once per run: the note is said once.)"""
    click.echo(f"pdguard: note: {old} is deprecated; use {new}", err=True)


def echo_warning(message: str) -> None:
    click.echo(f"pdguard: warning: {safe_text(message)}", err=True)


# ------------------------------------------------------------------------------ verbosity / logging

def configure_logging(verbose: int) -> None:
    """0: warnings and errors; 1 (-v): + API retries and rate-limit waits; 2 (-vv): + every HTTP request.

    Log lines go to stderr as :mod:`pdguard.logs` formats them: an ISO 8601 UTC timestamp, the
    message neutralised (one line, no control/bidi characters) and every URL redacted."""
    from pdguard import logs

    logs.setup(verbose)


def _root_obj(ctx: click.Context) -> Any:
    return ctx.find_root().obj


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    obj = _root_obj(ctx)
    if value is not None and obj is not None:
        obj.config_path = value
        obj._cfg = None


def _add_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    obj = _root_obj(ctx)
    if value and obj is not None:
        obj.verbose += value
        configure_logging(obj.verbose)


def install_global_options(group: click.Group) -> None:
    """Accept the group's ``--config`` and ``-v`` after every subcommand too (``pdguard check -v``)."""
    for cmd in group.commands.values():
        names = {n for p in cmd.params for n in getattr(p, "opts", [])}
        if "--config" not in names:
            cmd.params.append(click.Option(["--config"], metavar="FILE", expose_value=False, callback=_set_config,
                                           help="pdguard.yaml (also accepted before the subcommand)."))
        if "-v" not in names and "--verbose" not in names:
            cmd.params.append(click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_add_verbose,
                                           help="-v: API retries and waits; -vv: every request."))
        if isinstance(cmd, click.Group):
            install_global_options(cmd)
