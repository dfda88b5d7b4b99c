"""Report build: run matrix, papermill execution, HTML pages, index and ``results.json``.

``python -m analysis report`` drives :func:`build_reports`; notebooks call
:func:`publish_results` and :func:`run_facts`. papermill and nbconvert are imported only when a
build runs, so ``import analysis`` stays light.
"""

from analysis.reports.execution import RunOutcome
from analysis.reports.matrix import Run, RunMatrixError, load_matrix
from analysis.reports.notebook import publish_results, run_facts
from analysis.reports.results import RESULTS_MIME
from analysis.reports.runner import BuildResult, build_reports
from analysis.reports.sitefolder import ReportBuildError

__all__ = [
    "RESULTS_MIME",
    "BuildResult",
    "ReportBuildError",
    "Run",
    "RunMatrixError",
    "RunOutcome",
    "build_reports",
    "load_matrix",
    "publish_results",
    "run_facts",
]
