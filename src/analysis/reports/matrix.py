"""The run matrix (``notebooks/runs.yaml``): which notebook to run with which parameters.

The file is a YAML list; each entry is one run::

    - name: nvda_oct2023          # unique, [a-z0-9_-]+ ; the report folder's name
      notebook: event_study.ipynb # relative to the folder holding the matrix file
      title: NVDA around the October 2023 rules   # optional (default: the name)
      timeout: 600                # optional: seconds per cell (papermill execution_timeout)
      parameters:                 # optional: names declared in the notebook's parameters cell
        symbols: [NVDA]
        event: "2023-10-17"

An entry with ``for_each`` stands for one run per registry event (:mod:`analysis.reports.derived`).

Everything is checked before anything runs: unknown keys, duplicate names, missing notebooks,
and every parameter against the notebook's ``parameters`` cell as papermill reads it
(:func:`papermill.inspect_notebook`): a name the notebook does not declare is an error (papermill
itself only warns), and so is a value whose type does not fit the declared one (annotation, or
else the type of the default; an int is accepted for a float, never a bool for an int). A matrix
with no runs is refused (it would empty the site).

A parameter whose name ends in ``_dir``, ``_file`` or ``_path`` names a file or folder: a relative
value is taken from the directory the command runs in (not ``notebooks/``, where the kernel runs)
and the kernel receives the absolute path; a non-empty path that does not exist is an error.
"""

from __future__ import annotations

import ast
import datetime as _dt
import difflib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from analysis import config
from analysis.errors import ValidationError

NAME_PATTERN = re.compile(r"[a-z0-9_-]+")
DEFAULT_TIMEOUT = 600
RUN_KEYS = ("name", "notebook", "parameters", "title", "timeout", "front_page")
_REQUIRED_KEYS = ("name", "notebook")
#: Parameters whose names end so name a file or folder (resolved against the working directory).
PATH_SUFFIXES = ("_dir", "_file", "_path")


class RunMatrixError(ValidationError):
    """The run matrix file is unreadable or names runs that cannot run as written."""


@dataclass(frozen=True)
class NotebookParameter:
    """One assignment of a notebook's ``parameters`` cell, as papermill reads it."""

    name: str
    kind: str | None  # "str", "int", "float", "bool", "list", "dict" or None (unknown)
    nullable: bool  # default is None or annotation is Optional[...]
    default: str  # the source text of the default
    element_kind: str | None = None  # for lists: the declared/observed element type


@dataclass(frozen=True)
class Run:
    """One validated entry of the run matrix."""

    name: str
    notebook: str  # relative to ``notebooks_dir`` (posix form, as written)
    notebooks_dir: Path
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)
    title: str = ""
    timeout: float = DEFAULT_TIMEOUT
    #: its page is also the site's front page (``<site>/index.html``)
    front_page: bool = False

    @property
    def notebook_path(self) -> Path:
        return self.notebooks_dir / self.notebook

    @property
    def label(self) -> str:
        return self.title or self.name


def run_commands(run: Run) -> tuple[str, str]:
    """The two shell commands that regenerate ``run``, from the project folder: the build's
    (``python -m analysis report --only NAME``) and plain papermill's. String parameters go as
    ``-r`` (raw, never re-typed), numbers and booleans as ``-p``, lists and mappings as ``-y``."""
    import shlex

    import yaml

    build = f"python -m analysis report --only {run.name}"
    if run.notebooks_dir.resolve() != config.notebooks_dir().resolve():
        build += f" --matrix {shlex.quote(str(run.notebooks_dir / 'runs.yaml'))}"
    try:
        nb = run.notebook_path.resolve().relative_to(config.project_root().resolve()).as_posix()
    except ValueError:
        nb = str(run.notebook_path)
    words = ["papermill", shlex.quote(nb), f"{run.name}.ipynb"]
    for key, value in run.parameters.items():
        if isinstance(value, str):
            words += ["-r", key, shlex.quote(value)]
        elif isinstance(value, bool | int | float):
            words += ["-p", key, str(value)]
        else:
            text = yaml.safe_dump({key: value}, default_flow_style=True).strip()
            words += ["-y", shlex.quote(text)]
    return build, " ".join(words)


# --------------------------------------------------------------------------- parameters cell


_ANNOTATION_KINDS = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "list": "list",
    "tuple": "list",
    "sequence": "list",
    "dict": "dict",
    "mapping": "dict",
}


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, _dt.datetime):
        return "datetime"
    if isinstance(value, _dt.date):
        return "date"
    return type(value).__name__


def _parse_annotation(text: str) -> tuple[str | None, bool, str | None]:
    """``"list[str]"`` -> ("list", False, "str"); ``"Optional[int]"`` -> ("int", True, None)."""
    text = text.strip()
    if not text or text == "None":
        return None, False, None
    m = re.fullmatch(r"(\w+)\s*(?:\[(.*)\])?", text)
    if not m:
        return None, False, None
    base, inner = m.group(1), (m.group(2) or "").strip()
    if base.lower() == "optional" and inner:
        kind, _, elem = _parse_annotation(inner)
        return kind, True, elem
    kind = _ANNOTATION_KINDS.get(base.lower())
    elem = None
    if kind == "list" and inner:
        elem = _ANNOTATION_KINDS.get(inner.split(",")[0].strip().lower())
        if elem in ("list", "dict"):
            elem = None
    return kind, False, elem


def _notebook_parameter(name: str, type_name: str, default: str) -> NotebookParameter:
    kind, nullable, elem = _parse_annotation(type_name)
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = ...  # an expression (e.g. ``date(2023, 1, 1)``): its type is unknown
    if value is None:
        nullable = True
    elif value is not ...:
        vkind = _kind_of(value)
        if kind is None and vkind in ("str", "int", "float", "bool", "list", "dict"):
            kind = vkind
        if kind == "list" and elem is None and isinstance(value, list | tuple) and value:
            kinds = {_kind_of(v) for v in value}
            if len(kinds) == 1 and next(iter(kinds)) in ("str", "int", "float", "bool"):
                elem = next(iter(kinds))
            elif kinds == {"int", "float"}:
                elem = "float"
    return NotebookParameter(name, kind, nullable, default, elem)


def notebook_parameters(path: Path) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares (via :func:`papermill.inspect_notebook`).

    Raises :class:`RunMatrixError` if papermill cannot read the notebook.
    """
    import papermill

    try:
        inspected = papermill.inspect_notebook(str(path))
    except ValueError as exc:  # no kernelspec / language in the notebook's metadata
        raise RunMatrixError(
            f"{path}: papermill cannot read its parameters ({exc}); open it in Jupyter with "
            "the Python 3 kernel and save it so that its metadata name the kernel"
        ) from exc
    except Exception as exc:  # unreadable JSON, not a notebook
        raise RunMatrixError(
            f"{path}: not a readable notebook ({type(exc).__name__}: {exc})"
        ) from None
    return {
        name: _notebook_parameter(name, info["inferred_type_name"], info["default"])
        for name, info in inspected.items()
    }


def declared_parameters(source: str) -> dict[str, NotebookParameter]:
    """The parameters a ``parameters`` cell's source declares: each top-level ``name = value``
    or ``name: type = value`` on one line, with its annotation and default, read with
    :mod:`ast` (the kernel checks its parameters without importing papermill; a test keeps this
    equal to :func:`papermill.inspect_notebook` on every report notebook)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    out: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            name, annotation = node.target.id, ast.get_source_segment(source, node.annotation)
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, annotation = node.targets[0].id, None
        else:
            continue
        value = ast.get_source_segment(source, node.value) if node.value else None
        if value is None or node.lineno != node.end_lineno:
            continue  # papermill reads one line per parameter
        out[name] = _notebook_parameter(name, annotation or "None", value)
    return out


def _parameters_cell_source(path: Path) -> str | None:
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell.source
    return None


def assigned_names(source: str) -> list[str]:
    """Names assigned at the top level of ``source``, in order of first assignment."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names += [t.id for t in targets if isinstance(t, ast.Name) and t.id not in names]
    return names


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_value(
    who: str, notebook: str, pname: str, value: Any, declared: NotebookParameter
) -> str | None:
    """A problem message if ``value`` does not fit ``declared``, else None (``who`` may be "")."""
    where = f"{who}: parameter '{pname}'" if who else f"parameter '{pname}'"
    kind = _kind_of(value)
    if kind in ("date", "datetime"):
        return (
            f"{where} = {value} was read by YAML as a {kind}; papermill passes only strings, "
            f"numbers, booleans, lists and mappings: quote it ('{value}')"
        )
    bad = _untranslatable(value)
    if bad is not None:
        return f"{where}: {bad}"
    decl = f"{notebook} declares {pname} = {declared.default}"
    if value is None:
        if declared.kind is None or declared.nullable:
            return None
        return f"{where} is null, but {decl} (type {declared.kind}), which cannot be null"
    if declared.kind is None:
        return None
    fits = kind == declared.kind or (declared.kind == "float" and kind == "int")
    if not fits:
        return f"{where} = {_describe(value)} has type {kind}, but {decl} (type {declared.kind})"
    if declared.kind == "list" and declared.element_kind:
        want = declared.element_kind
        for i, item in enumerate(value):
            ik = _kind_of(item)
            if not (ik == want or (want == "float" and ik == "int")):
                return (
                    f"{where}: item {i} = {_describe(item)} has type {ik}, but {decl} "
                    f"(type list of {want})"
                )
    return None


def _untranslatable(value: Any) -> str | None:
    kind = _kind_of(value)
    if kind in ("null", "bool", "int", "float", "str"):
        return None
    if kind == "list":
        for item in value:
            bad = _untranslatable(item)
            if bad:
                return bad
        return None
    if kind == "dict":
        for key, item in value.items():
            if not isinstance(key, str):
                return f"mapping key {key!r} is a {_kind_of(key)}; papermill needs string keys"
            bad = _untranslatable(item)
            if bad:
                return bad
        return None
    if kind in ("date", "datetime"):
        return f"{value} was read by YAML as a {kind}; quote it ('{value}')"
    return f"a {kind} value ({_describe(value)}) cannot be passed to a notebook"


def _suggest(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------- loading


def _read_text(path: Path) -> str:
    """The matrix file as text; :class:`RunMatrixError` naming the byte if it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RunMatrixError(
            f"{path}: not UTF-8 text: byte {exc.start} (line {line}, column {column}) is "
            f"0x{data[exc.start]:02x}, which UTF-8 cannot decode ({exc.reason}); save the file "
            "as UTF-8"
        ) from None


def is_path_parameter(name: str) -> bool:
    """True for a parameter that names a file or folder (``*_dir``, ``*_file``, ``*_path``)."""
    return name.endswith(PATH_SUFFIXES)


def _resolve_paths(
    who: str, parameters: Mapping[str, Any], cwd: Path, problems: list[str]
) -> dict[str, Any]:
    """``parameters`` with every non-empty path parameter made absolute against ``cwd``."""
    out = dict(parameters)
    for pname, value in parameters.items():
        if not (is_path_parameter(pname) and isinstance(value, str) and value.strip()):
            continue
        path = Path(value).expanduser()
        resolved = Path(os.path.normpath(path if path.is_absolute() else cwd / path))
        if not resolved.exists():
            problems.append(
                f"{who}: parameter '{pname}' = {value!r} names {resolved}, which does not exist "
                f"(relative paths are taken from the directory the command runs in, {cwd}); "
                "give an existing file or folder, or an empty string for the default"
            )
            continue
        out[pname] = str(resolved)
    return out


def _entry_lines(text: str) -> list[int | None]:
    """1-based line of each top-level list entry (None where unknown)."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def load_matrix(path: str | Path | None = None) -> list[Run]:
    """Read and validate a run matrix (default :func:`analysis.config.run_matrix_path`).

    Notebook paths are relative to the folder holding the matrix file. Every problem found is
    reported at once in a :class:`RunMatrixError` naming the run (or entry and line) and the key.
    """
    import yaml

    path = Path(path) if path is not None else config.run_matrix_path()
    if not path.is_file():
        raise RunMatrixError(
            f"run matrix {path} not found; create it (a YAML list of runs, see "
            "analysis.reports.matrix) or pass --matrix FILE"
        )
    text = _read_text(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RunMatrixError(f"{path}: not valid YAML{where}: {problem}") from None
    if raw is None or raw == []:
        raise RunMatrixError(
            f"{path}: the run matrix lists no runs; add at least one entry (- name: ..., "
            "notebook: ...). A build from an empty matrix would remove every report of the site"
        )
    if not isinstance(raw, list):
        raise RunMatrixError(
            f"{path}: the run matrix must be a YAML list of runs (entries starting with '- name:'),"
            f" got a {_kind_of(raw)}"
        )
    from analysis.reports.derived import expand

    lines = _entry_lines(text)
    base = path.parent.resolve()
    cwd = Path.cwd()
    problems: list[str] = []
    entries: list[tuple[Any, str]] = []
    for i, entry in enumerate(raw):
        line = lines[i] if i < len(lines) else None
        where = f"entry {i + 1}" + (f", line {line}" if line else "")
        if isinstance(entry, dict) and "for_each" in entry:
            entries += [
                (e, f"{where}, for_each {entry['for_each']}")
                for e in expand(entry, where, problems)
            ]
        else:
            entries.append((entry, where))
    runs: list[Run] = []
    seen: dict[str, str] = {}
    param_cache: dict[Path, dict[str, NotebookParameter] | str] = {}
    for entry, where in entries:
        run = _validate_entry(entry, where, base, cwd, seen, param_cache, problems)
        if run is not None:
            runs.append(run)
    fronts = [r.name for r in runs if r.front_page]
    if len(fronts) > 1:
        problems.append(
            f"front_page: true is set on {', '.join(fronts)}; one run can be the front page"
        )
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise RunMatrixError(f"{path}: {count} in the run matrix; nothing was run", problems)
    return runs


def _validate_entry(
    entry: Any,
    where: str,
    base: Path,
    cwd: Path,
    seen: dict[str, str],
    param_cache: dict[Path, dict[str, NotebookParameter] | str],
    problems: list[str],
) -> Run | None:
    if not isinstance(entry, dict):
        problems.append(
            f"{where}: expected a mapping with keys {', '.join(RUN_KEYS)}, got a {_kind_of(entry)}"
        )
        return None
    name = entry.get("name")
    if isinstance(name, str) and NAME_PATTERN.fullmatch(name):
        who = f"run '{name}' ({where})"
    else:
        who = where
    n_before = len(problems)
    for key in entry:
        if key not in RUN_KEYS:
            problems.append(
                f"{who}: unknown key '{key}'{_suggest(str(key), RUN_KEYS)}; "
                f"allowed keys: {', '.join(RUN_KEYS)}"
            )
    for key in _REQUIRED_KEYS:
        if key not in entry:
            problems.append(f"{who}: missing key '{key}'")
    if "name" in entry:
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            problems.append(
                f"{who}: key 'name': {name!r} must match [a-z0-9_-]+ "
                "(lower-case letters, digits, '_' and '-'; it names the report folder)"
            )
        elif name in seen:
            problems.append(
                f"{who}: key 'name': duplicate name '{name}', already used by {seen[name]}"
            )
        else:
            seen[name] = where
    title = entry.get("title", "")
    if title is None or not isinstance(title, str):
        problems.append(f"{who}: key 'title': must be a string, got {_describe(title)}")
    timeout = entry.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        problems.append(
            f"{who}: key 'timeout': must be a positive number of seconds, got {_describe(timeout)}"
        )
    front_page = entry.get("front_page", False)
    if not isinstance(front_page, bool):
        problems.append(
            f"{who}: key 'front_page': must be true or false, got {_describe(front_page)}"
        )
    parameters = entry.get("parameters", {})
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        problems.append(
            f"{who}: key 'parameters': must be a mapping of name: value, got a "
            f"{_kind_of(parameters)}"
        )
        parameters = None
    nb_rel = entry.get("notebook")
    nb_path: Path | None = None
    if "notebook" in entry:
        nb_path = _check_notebook(who, nb_rel, base, problems)
    if nb_path is not None and parameters:  # a valid notebook path is a string
        _check_parameters(who, str(nb_rel), nb_path, parameters, param_cache, problems)
    if len(problems) > n_before:
        return None
    parameters = _resolve_paths(who, parameters or {}, cwd, problems)
    if len(problems) > n_before:
        return None
    assert isinstance(name, str) and isinstance(nb_rel, str)  # checked above
    return Run(
        name=name,
        notebook=Path(nb_rel).as_posix(),
        notebooks_dir=base,
        parameters=MappingProxyType(dict(parameters)),
        title=title,
        timeout=float(timeout) if isinstance(timeout, float) else timeout,
        front_page=front_page,
    )


def _check_notebook(who: str, rel: Any, base: Path, problems: list[str]) -> Path | None:
    if not isinstance(rel, str) or not rel.strip():
        problems.append(f"{who}: key 'notebook': must be a path like name.ipynb, got {rel!r}")
        return None
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        problems.append(
            f"{who}: key 'notebook': {rel} must be a path inside {base} (no absolute path, no '..')"
        )
        return None
    if p.suffix != ".ipynb":
        problems.append(f"{who}: key 'notebook': {rel} is not a notebook (.ipynb)")
        return None
    full = base / p
    if not full.is_file():
        available = sorted(q.relative_to(base).as_posix() for q in base.rglob("*.ipynb"))
        hint = _suggest(rel, available) or (
            f" (notebooks there: {', '.join(available)})" if available else " (none there)"
        )
        problems.append(f"{who}: key 'notebook': {rel} not found in {base}{hint}")
        return None
    return full


def _check_parameters(
    who: str,
    nb_rel: str,
    nb_path: Path,
    parameters: dict[Any, Any],
    param_cache: dict[Path, dict[str, NotebookParameter] | str],
    problems: list[str],
) -> None:
    if nb_path not in param_cache:
        try:
            param_cache[nb_path] = notebook_parameters(nb_path)
        except RunMatrixError as exc:
            param_cache[nb_path] = str(exc)
    declared = param_cache[nb_path]
    if isinstance(declared, str):
        problems.append(f"{who}: key 'notebook': {declared}")
        return
    for pname, value in parameters.items():
        if not isinstance(pname, str):
            problems.append(f"{who}: parameter name {pname!r} must be a string")
            continue
        if pname not in declared:
            problems.append(f"{who}: {_unknown_parameter(pname, nb_rel, nb_path, declared)}")
            continue
        problem = _check_value(who, nb_rel, pname, value, declared[pname])
        if problem:
            problems.append(problem)


def _unknown_parameter(
    pname: str, nb_rel: str, nb_path: Path, declared: Mapping[str, NotebookParameter]
) -> str:
    if not declared:
        source = _parameters_cell_source(nb_path)
        if source is None:
            return (
                f"parameter '{pname}': {nb_rel} has no cell tagged 'parameters', so it takes "
                "no parameters; tag its parameters cell 'parameters' or drop the parameter"
            )
    source = _parameters_cell_source(nb_path) or ""
    if pname in assigned_names(source):
        return (
            f"parameter '{pname}': {nb_rel} assigns it in its parameters cell, but papermill "
            "cannot read that line; write it on one line as `name = literal` or "
            "`name: type = literal` (no `X | None` annotations, one '=' per line)"
        )
    names = sorted(declared)
    return (
        f"parameter '{pname}' is not declared in {nb_rel}'s parameters cell"
        f"{_suggest(pname, names)}; declared: {', '.join(names) or '(none)'}"
    )
