"""The site folder: its manifest of what builds made, its lock, temporary folders, the swap.

Only what the manifest (``<out>/.analysis-report-site``) lists is ever replaced or removed; a
build is written into a sibling temporary folder ``<out>.tmp-*`` and moved in at the end
(:func:`_commit`).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import AnalysisError
from analysis.reports.fingerprint import FINGERPRINT_FILE
from analysis.reports.matrix import NAME_PATTERN

#: The manifest of what builds made, in the site folder (JSON).
SITE_MARKER = ".analysis-report-site"
#: Marks a temporary build folder ``<out>.tmp-*`` as a build's own (it names the site).
TEMP_MARKER = ".analysis-report-build"
MANIFEST_FORMAT = 1
RUN_FILES = ("executed.ipynb", "index.html", "results.json")
#: Pages at the site's root: the front page and the build status.
ROOT_PAGES = ("index.html", "build.html")
#: Files a build writes in a run's folder (replaced by a rebuild, whatever the manifest says).
BUILD_FILES = (*RUN_FILES, FINGERPRINT_FILE)


class ReportBuildError(AnalysisError):
    """The report site cannot be built where or how it was asked."""


# --------------------------------------------------------------------------- the site


@dataclass
class _Manifest:
    """What a build wrote in the site: top-level files and, per run, the files of its folder."""

    files: list[str] = field(default_factory=list)
    runs: dict[str, list[str]] = field(default_factory=dict)

    def dumps(self) -> str:
        doc = {
            "format": MANIFEST_FORMAT,
            "written_by": "python -m analysis report",
            "files": sorted(self.files),
            "runs": {k: sorted(v) for k, v in sorted(self.runs.items())},
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _read_manifest(out: Path) -> _Manifest:
    """The previous build's manifest; for a site of an older build (a text marker), its runs."""
    path = out / SITE_MARKER
    if not path.is_file():
        return _Manifest()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files, runs = doc["files"], doc["runs"]
        if isinstance(files, list) and isinstance(runs, dict):
            # only run names and plain file names: a hand-edited entry such as ".." or
            # "../x" must never make the build remove anything outside the site's runs
            return _Manifest(
                [f for f in files if _plain_name(f)],
                {
                    k: [f for f in v if _plain_name(f)]
                    for k, v in runs.items()
                    if isinstance(k, str) and NAME_PATTERN.fullmatch(k) and isinstance(v, list)
                },
            )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    # an older site: its index and every folder holding a run's results.json
    runs = {
        p.name: [f for f in BUILD_FILES if (p / f).is_file()]
        for p in out.iterdir()
        if p.is_dir() and not p.is_symlink() and (p / "results.json").is_file()
    }
    return _Manifest(["index.html"], runs)


def _plain_name(name: object) -> bool:
    """True for a file name without a folder part (not "", ".", ".." or a path)."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and not any(c in name for c in "/\\\0")
    )


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ReportBuildError(f"--out {out} is a file; give a folder for the report site")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).is_file():
        raise ReportBuildError(
            f"--out {out} exists, is not empty and is not a report site (no {SITE_MARKER} "
            "file); choose a new or empty folder"
        )


@contextlib.contextmanager
def _site_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the site folder (created if missing) for one build.

    ``flock`` on the folder itself, so the lock leaves no file behind; where ``fcntl`` does not
    exist (Windows) builds are not locked against each other.
    """
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            pass
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ReportBuildError(
                    f"another report build is writing to {out}; wait for it to finish (or stop "
                    "it) and build again"
                ) from None
        yield
    finally:
        os.close(fd)
        if created:  # a first build that wrote nothing leaves no empty folder behind
            with contextlib.suppress(OSError):
                out.rmdir()


def _temp_folders(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f"{glob.escape(out.name)}.tmp-*"))


def _make_temp(out: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-", dir=out.parent))
    (tmp / TEMP_MARKER).write_text(f"{out}\n", encoding="utf-8")
    return tmp


def _remove_temp(tmp: Path) -> None:
    """Remove a temporary build folder, its marker last (a half-removed one is still known)."""
    for child in tmp.iterdir():
        if child.name == TEMP_MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()
    with contextlib.suppress(OSError):
        (tmp / TEMP_MARKER).unlink()
    with contextlib.suppress(OSError):
        tmp.rmdir()


def _remove_stale_temps(out: Path) -> list[Path]:
    """Remove temporary folders of earlier builds of ``out`` that were killed (lock held)."""
    removed = []
    for tmp in _temp_folders(out):
        if not tmp.is_dir() or tmp.is_symlink():
            continue
        marker = tmp / TEMP_MARKER
        try:
            ours = marker.read_text(encoding="utf-8").strip() == str(out)
        except OSError:
            ours = not any(tmp.iterdir())  # created, killed before the marker was written
        if ours:
            _remove_temp(tmp)
            removed.append(tmp)
    return removed


def _previous(folder: Path) -> tuple[str | None, str | None]:
    """(status, fingerprint text) of a run in the previous site, or (None, None)."""
    if not all((folder / f).is_file() for f in RUN_FILES):
        return None, None
    try:
        status = json.loads((folder / "results.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return None, None
    fp = folder / FINGERPRINT_FILE
    return status, (fp.read_text(encoding="utf-8") if fp.is_file() else None)


def _commit(
    tmp: Path, out: Path, built: Sequence[str], removed: Sequence[str], old: _Manifest
) -> dict[str, list[str]]:
    """Move the new run folders, the index and the manifest from ``tmp`` into ``out``.

    A rebuilt run's folder replaces the old one; files in the old folder that the build did not
    make are moved into the new one. A removed run loses only the build's files (its folder
    goes when nothing else is left). Returns, per removed run, the files that were kept.
    """
    trash = tmp / ".replaced"
    trash.mkdir()
    for name in built:
        new, dest = tmp / name, out / name
        if dest.is_dir() and not dest.is_symlink():
            ours = set(old.runs.get(name, ())) | set(BUILD_FILES)
            for child in dest.iterdir():
                if child.name not in ours and not (new / child.name).exists():
                    os.rename(child, new / child.name)
        if dest.exists() or dest.is_symlink():
            os.rename(dest, trash / name)
        os.rename(new, dest)
    kept: dict[str, list[str]] = {}
    for name in removed:
        dest = out / name
        if not dest.is_dir() or dest.is_symlink():
            continue
        (trash / name).mkdir()
        for f in old.runs.get(name, ()):
            if (dest / f).is_file():
                os.rename(dest / f, trash / name / f)
        others = sorted(p.name for p in dest.iterdir())
        if others:
            kept[name] = others
        else:
            dest.rmdir()
    for page in ROOT_PAGES:
        os.replace(tmp / page, out / page)
    os.replace(tmp / SITE_MARKER, out / SITE_MARKER)
    return kept


def _check_foreign_root_pages(out: Path, old: _Manifest) -> None:
    """Refuse to overwrite a root page the build did not make (a user's own ``build.html``)."""
    for page in ROOT_PAGES:
        path = out / page
        if page not in old.files and (path.exists() or path.is_symlink()) and old.files:
            raise ReportBuildError(
                f"{path} exists and was not made by the report build; move it out of {out} "
                "(the build writes the site's build status there)"
            )


def _check_foreign_folder(name: str, dest: Path) -> None:
    """Refuse a run whose folder exists in the site but is not the build's (not in the manifest).

    A folder holding none of the files a build writes is taken over as for a rebuilt run: its
    files stay (e.g. the notes left in the folder of a run that was dropped and is back).
    """
    if not (dest.exists() or dest.is_symlink()):
        return
    if dest.is_dir() and not dest.is_symlink():
        clash = [f for f in BUILD_FILES if (dest / f).exists() or (dest / f).is_symlink()]
        if not clash:
            return
        what = f"holds {', '.join(clash)}, which the build would replace,"
    else:
        what = "exists, is not a folder"
    raise ReportBuildError(
        f"run '{name}': {dest} {what} and was not made by a report build (not in "
        f"{SITE_MARKER}); rename the run in the matrix or move that folder away"
    )
