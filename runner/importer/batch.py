"""Plan and write one `vqr import`: candidates → named, checked query files → written, all or none.

Input: the project, its schemas, variables and queries, the decoded inputs, the options. Output: `Planned` files, each
compiled in memory by the real lint pipeline and proved to render back to the imported spec and cache mode, else an
`ImportRefused` (nothing written). `write_planned` writes them, each atomically and new, and all or none.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.compile.queries import effective_cache, to_query
from runner.compile.repository import FRAGMENTS_DIR, QUERY_SUFFIXES, VARS_DIR, RepositoryCompiler
from runner.files import write_atomically
from runner.importer.emit import query_file_text, slug
from runner.importer.inputs import Input
from runner.importer.modernize import modernize
from runner.importer.shapes import Candidate, ImportRefused, detect
from runner.model import JSONObject, JSONValue, Query, Severity, cache_policy
from runner.protojson import normalise
from runner.repopath import is_within, outside_root
from runner.settings import Project
from runner.validate import SchemaSet


@dataclass(frozen=True, kw_only=True)
class ImportOptions:
    into: Path | None = None  # default: the project's queries directory
    owner: str | None = None
    tags: tuple[str, ...] = ()
    modernize: bool = False


@dataclass(frozen=True, kw_only=True)
class Planned:
    path: Path
    display: str  # relative to the project root
    text: str
    candidate: Candidate
    notes: tuple[str, ...]
    warnings: int  # lint warnings of the file (deprecations and the like)


def target_directory(project: Project, into: Path | None) -> Path:
    """Where the files go: inside the project's queries directory (else lint would never see them), not in its
    fragments or variables, and not through a link that leads out of the project."""
    root = project.root.resolve()
    directory = (into if into is not None else project.queries_dir).absolute()
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if outside_root(root, existing) is not None or not is_within(root, os.path.normpath(directory)):
        raise ImportRefused(f"--into {into}: outside the project ({root})")
    queries = project.queries_dir.resolve()
    resolved = Path(os.path.realpath(directory))
    if not is_within(queries, resolved):
        raise ImportRefused(f"--into {into}: not under the queries directory ({project.display(queries)}/), "
                            "where vqr looks for queries")
    parts = resolved.relative_to(queries).parts
    if parts and parts[0] in {FRAGMENTS_DIR, VARS_DIR}:
        raise ImportRefused(f"--into {into}: {parts[0]}/ holds fragments or variables, not queries")
    return resolved


def _fields(candidate: Candidate, name: str, spec: JSONObject, options: ImportOptions) -> JSONObject:
    fields: JSONObject = {"name": name}
    # The saved name as Veza wrote it survives in the description when the entry has none: the slug may keep nothing
    # of it (`日本語` → `query`), and a comment cannot carry it (the file's comments are fixed, never input text).
    saved = candidate.saved_name if candidate.saved_name not in (None, name) else None
    if candidate.description or saved:
        fields["description"] = candidate.description or saved
    if options.owner:
        fields["owner"] = options.owner
    tags = list(dict.fromkeys([*options.tags, *candidate.tags]))
    if tags:
        fields["tags"] = list[JSONValue](tags)
    if candidate.cache is not None:
        fields["cache"] = dict(candidate.cache)
    fields["spec"] = spec
    return fields


def _names(candidates: Sequence[Candidate], directory: Path, existing: Iterable[Query]) -> list[str]:
    """A unique name per candidate: its slug; a clash with an existing query (or file) is refused. Every slug of
    this import is reserved first, then a repeated one is told apart by `-2`, `-3`, ..., skipping every name taken,
    so an entry literally named `dup-2` keeps that name whatever comes before it."""
    known = {query.name: query.file for query in existing}
    on_disk = {p.stem for p in directory.iterdir() if p.suffix in QUERY_SUFFIXES} if directory.is_dir() else set()
    bases = [slug(candidate.name_hint) for candidate in candidates]
    for candidate, base in zip(candidates, bases, strict=True):
        if base in known or base in on_disk:
            where = known.get(base) or f"{base}.yaml in the target directory"
            raise ImportRefused(f"{candidate.source}: a query named {base!r} already exists ({where}); "
                                "not overwriting it")
    taken = set(known) | on_disk | set(bases)
    seen: set[str] = set()
    names: list[str] = []
    for base in bases:
        name, number = base, 2
        if base in seen:
            while f"{base}-{number}" in taken:
                number += 1
            name = f"{base}-{number}"
        seen.add(base)
        taken.add(name)
        names.append(name)
    return names


def _check_options(options: ImportOptions) -> None:
    for flag, values in (("--owner", [options.owner] if options.owner is not None else []),
                         ("--tag", list(options.tags))):
        for value in values:
            if not value.strip():
                raise ImportRefused(f"{flag} {value!r}: an empty or blank {flag[2:]} means nothing; give a word")


def schema_modeline_path(project: Project, directory: Path) -> str:
    """The modeline's path to query-file.schema.json from `directory`: the project's own `schemas:` directory; a
    project without schemas of its own (vqr uses its bundled copy) gets `schemas/`, where `vqr schema build`
    writes them."""
    own = project.schemas_dir if is_within(project.root.resolve(), os.path.realpath(project.schemas_dir)) \
        else project.root / "schemas"
    return Path(os.path.relpath(own / "query-file.schema.json", directory)).as_posix()


def _same_cache(query: Query, expected: Mapping[str, JSONValue]) -> bool:
    return query.cache == cache_policy(expected)


def plan_import(project: Project, inputs: Sequence[Input], options: ImportOptions, *, schemas: SchemaSet,
                variables: Mapping[str, JSONValue], existing: Iterable[Query]) -> list[Planned]:
    """Every query file the import would write, checked; an `ImportRefused` (nothing planned) at the first problem."""
    _check_options(options)
    directory = target_directory(project, options.into)
    candidates = [c for item in inputs for c in detect(item.value, source=item.label, stem=item.stem)]
    names = _names(candidates, directory, existing)
    compiler = RepositoryCompiler(project, schemas, variables)
    schema_path = schema_modeline_path(project, directory)
    planned: list[Planned] = []
    for candidate, name in zip(candidates, names, strict=True):
        spec = normalise(candidate.spec, drop_assumed_zeros=False)  # the file keeps what Veza said
        assert isinstance(spec, dict)
        notes = list(candidate.notes)
        if options.modernize:
            done = modernize(spec)
            spec = done.spec
            notes += [f"modernized {line}" for line in done.rewritten] + [f"left as is: {line}" for line in done.left]
        path = directory / f"{name}.yaml"
        text = query_file_text(_fields(candidate, name, spec, options), schema_path=schema_path, shape=candidate.shape)
        start = len(compiler.findings)
        units = compiler.compile_text(path, text.encode())
        found = compiler.findings[start:]
        errors = [f for f in found if f.severity is Severity.ERROR]
        if errors or len(units) != 1:
            first = errors[0] if errors else None
            detail = (f"{first.path}:{first.line}:{first.column}: {first.message} ({first.rule})" if first
                      else "no query")
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise ImportRefused(f"{candidate.source}: the imported query would not lint: {detail}{more}")
        query = to_query(units[0], project.defaults.cache)
        expected_cache = effective_cache(candidate.cache, project.defaults.cache)
        if normalise(query.spec) != normalise(spec) or not _same_cache(query, expected_cache):
            raise ImportRefused(f"{candidate.source}: the written file would not render back to the imported "
                                "spec; not imported (a vqr bug: please report it with this input)")
        planned.append(Planned(path=path, display=project.display(path), text=text, candidate=candidate,
                               notes=tuple(notes), warnings=len(found)))
    return planned


def write_planned(planned: Sequence[Planned]) -> None:
    """Write every planned file, all or none: each is written whole to a sibling, then linked to its name, which
    fails rather than overwrite a file that appeared since planning; on any failure every file (and directory) this
    call created is removed before the error goes on (an `OSError` naming the file, or an `ImportRefused`)."""
    for item in planned:
        if item.path.exists() or item.path.is_symlink():
            raise ImportRefused(f"{item.display} appeared meanwhile; not overwriting it")
    created: list[Path] = []
    try:
        for item in planned:
            created += _missing_directories(item.path.parent)
            item.path.parent.mkdir(parents=True, exist_ok=True)
            _write_new(item)
            created.append(item.path)
    except BaseException:
        for path in reversed(created):  # files first, then their directories, deepest first
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()  # only when empty: a directory someone else wrote into meanwhile stays
                else:
                    path.unlink()
        raise


def _missing_directories(directory: Path) -> list[Path]:
    missing: list[Path] = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    return missing[::-1]


def _write_new(item: Planned) -> None:
    staging = item.path.with_name(f".{item.path.name}.{secrets.token_hex(4)}.import")
    try:
        write_atomically(staging, item.text)  # whole and flushed to disk, with the mode a new file gets
        try:
            os.link(staging, item.path)  # atomic, and never over an existing file
        except FileExistsError:
            raise ImportRefused(f"{item.display} appeared meanwhile; not overwriting it") from None
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            # A filesystem without hard links: the rename after a last look is the best there is.
            if item.path.exists() or item.path.is_symlink():
                raise ImportRefused(f"{item.display} appeared meanwhile; not overwriting it") from None
            staging.replace(item.path)
    except OSError as error:
        if error.filename in (None, str(staging)):  # name the file a person knows, not the staging sibling
            raise OSError(error.errno, error.strerror or str(error), str(item.path)) from error
        raise
    finally:
        with contextlib.suppress(OSError):
            staging.unlink(missing_ok=True)
