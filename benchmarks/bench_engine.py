"""Benchmark of the event-study engine (run by hand; not a test).

    .venv/bin/python benchmarks/bench_engine.py [--repeats 7] [--quick]

Workload A: 500 firms, 250 estimation days, an 11-day event window on one shared date.
  * package: every model's ARs (market model, market-adjusted, constant mean, two-factor model,
    vectorized), then every multi-firm test plus the per-firm prediction-error t and SQ test on the
    market model's 11-day CAR.
  * baseline, same run: a per-firm statsmodels loop fitting the same four models (OLS per firm and
    model) and computing the event-window ARs -- the usual way to write it.
  * the statsmodels event-dummy regression with HAC errors is a per-firm diagnostic: timed per firm.
Workload B: 10,000 firm-events on distinct dates (200 synthetic series x 3,000 sessions), from a
returns panel through event-time arrays, the market-model fit and every test; wall time and peak
memory (tracemalloc peak of Python allocations plus the process's max RSS).

Synthetic data only (seeded); timings are medians over ``--repeats`` runs. Run it with
``OPENBLAS_NUM_THREADS=1`` (see benchmarks/README.md: BLAS threads slow these small products).
The run also counts the page faults per package run and, last, times workload A once more after
switching glibc's heap trimming off (``--no-malloc-check`` skips that): on this VM a page fault
costs microseconds, and most of the gap between the two figures is memory the allocator hands
back to the OS between runs. The goal figure is the first (default allocator).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import resource
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

from analysis.data import calendar
from analysis.eventstudy import inference
from analysis.eventstudy.inference import event_dummy_regression
from analysis.eventstudy.models import fit_arrays, make_spec
from analysis.eventstudy.study import build_design

N, L1, L2 = 500, 250, 11
SPECS = {
    "market_model": make_spec("market_model", "M"),
    "market_adjusted": make_spec("market_adjusted", "M"),
    "constant_mean": make_spec("constant_mean"),
    "factor_model": make_spec("factor_model", factors=["M", "S"]),
}


def _workload_a(seed: int = 0):
    rng = np.random.default_rng(seed)
    T = L1 + L2
    m = rng.normal(0.0004, 0.01, T)
    s = rng.normal(0.0004, 0.012, T)
    y = 0.0003 + rng.uniform(0.5, 1.5, (N, 1)) * m + rng.normal(0, 0.02, (N, T))
    y[rng.random((N, T)) < 0.01] = np.nan  # 1% missing returns
    one = np.ones(T)
    designs = {
        "market_model": np.stack([one, m], axis=1),
        "market_adjusted": np.zeros((T, 0)),
        "constant_mean": one[:, None],
        "factor_model": np.stack([one, m, s], axis=1),
    }
    return y, m, designs


def fits_run(y, m, designs):
    """Every model's fit and event-window ARs, vectorized over the firms."""
    out = {}
    for name, spec in SPECS.items():
        X = np.broadcast_to(designs[name], (N, *designs[name].shape))
        off_e = off_v = None
        if name == "market_adjusted":
            off = np.broadcast_to(m, (N, len(m)))
            off_e, off_v = off[:, :L1], off[:, L1:]
        out[name] = fit_arrays(
            y[:, :L1],
            X[:, :L1],
            y[:, L1:],
            X[:, L1:],
            spec=spec,
            offset_est=off_e,
            offset_evt=off_v,
            min_estimation=30,
        )
    return out


def tests_run(f, m):
    """Every multi-firm test plus the per-firm t and SQ tests on the 11-day CAR."""
    x = inference.TestInputs.from_fit(f, m[:L1], m[L1:])
    names = ["t_prediction_error", "sq", *inference.MULTI_FIRM_TESTS]
    return inference.run_tests(x, np.arange(L2), names=names)


def package_run(y, m, designs):
    out = fits_run(y, m, designs)
    return out, tests_run(out["market_model"], m)


def fit_statsmodels(y, X):
    """One firm's OLS with statsmodels, the days with a missing value dropped (the baseline)."""
    import statsmodels.api as sm

    ok = np.isfinite(y) & np.isfinite(X.sum(axis=-1))
    return sm.OLS(y[ok], X[ok]).fit()


def baseline_run(y, m, designs):
    ars = {}
    for name in SPECS:
        X = designs[name]
        A = np.empty((N, L2))
        for i in range(N):
            if name == "market_adjusted":
                A[i] = y[i, L1:] - m[L1:]
                continue
            res = fit_statsmodels(y[i, :L1], X[:L1])
            A[i] = y[i, L1:] - X[L1:] @ res.params
        ars[name] = A
    return ars


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _keep_heap() -> bool:
    """glibc: never trim the heap, never mmap below 32 MiB (freed memory stays mapped)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-1, 1 << 30)) and bool(libc.mallopt(-3, 32 << 20))
    except (OSError, AttributeError):
        return False


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def workload_b(seed: int = 1):
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions("2012-01-03", "2023-12-29")[:3000]
    n_sym = 200
    m = rng.normal(0.0004, 0.01, len(sessions))
    r = (
        0.0002
        + rng.uniform(0.5, 1.5, (1, n_sym)) * m[:, None]
        + rng.normal(0, 0.02, (len(sessions), n_sym))
    )
    cols = [f"S{j:03d}" for j in range(n_sym)]
    rets = pd.DataFrame(np.column_stack([r, m]), index=sessions, columns=[*cols, "M"])
    pos = rng.integers(260, len(sessions) - 20, 10_000)
    firms = rng.integers(0, n_sym, 10_000)
    day0 = [
        calendar.Day0(
            requested=str(sessions[p].date()), day0=sessions[p], rule="date_only", reason=""
        )
        for p in pos
    ]
    return rets, [(cols[f], d) for f, d in zip(firms, day0, strict=True)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, skip workload B")
    ap.add_argument(
        "--no-malloc-check", action="store_true", help="skip the rerun with heap trimming off"
    )
    args = ap.parse_args()
    reps = 3 if args.quick else args.repeats
    print(
        f"machine: {_cpu_model()}, {os.cpu_count()} cores, {platform.machine()}; python "
        f"{platform.python_version()}, numpy {np.__version__}; OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    )
    y, m, designs = _workload_a()
    package_run(y, m, designs)  # warm-up (imports, BLAS threads)
    f0 = _minor_faults()
    pkg, pkg_all = _median_time(lambda: package_run(y, m, designs), reps)
    faults = (_minor_faults() - f0) / reps
    fits, _ = _median_time(lambda: fits_run(y, m, designs), reps)
    mm = fits_run(y, m, designs)["market_model"]
    tests, _ = _median_time(lambda: tests_run(mm, m), reps)
    base, base_all = _median_time(lambda: baseline_run(y, m, designs), max(3, reps // 2))
    print(
        f"A  package (4 models' ARs + every test, {N} firms): median {pkg * 1e3:.1f} ms "
        f"(runs: {', '.join(f'{t * 1e3:.1f}' for t in pkg_all)}); {faults:.0f} page faults per run"
    )
    print(
        f"A    of which: 4 fits median {fits * 1e3:.1f} ms, tests on the market model "
        f"median {tests * 1e3:.1f} ms (timed separately)"
    )
    print(f"A  baseline statsmodels per-firm loop (4 models' ARs): median {base * 1e3:.0f} ms")
    print(
        f"A  ratio baseline / package: {base / pkg:.0f}x; goal <= 50 ms: "
        f"{'met' if pkg <= 0.05 else 'NOT met'}"
    )
    # cross-check: the vectorized fit equals statsmodels on a firm
    out, _ = package_run(y, m, designs)
    X = designs["market_model"]
    ok = np.isfinite(y[0, :L1])
    ref = fit_statsmodels(y[0, :L1], X[:L1])
    assert np.allclose(out["market_model"].params[0], ref.params, atol=1e-10) and ok.any()
    # dummy regression with HAC, per firm
    t = time.perf_counter()
    for i in range(50):
        event_dummy_regression(y[i, :L1], X[:L1], y[i, L1:], X[L1:], list(range(L2)))
    per = (time.perf_counter() - t) / 50
    print(
        f"A  event-dummy OLS+HAC regression (statsmodels), per firm: {per * 1e3:.2f} ms "
        f"(x {N} firms = {per * N:.2f} s)"
    )
    if not args.quick:
        workload_b_report()
    if not args.no_malloc_check and _keep_heap():
        package_run(y, m, designs)
        f0 = _minor_faults()
        kept, kept_all = _median_time(lambda: package_run(y, m, designs), reps)
        print(
            f"A  for information, heap trimming off (mallopt; not the goal figure): median "
            f"{kept * 1e3:.1f} ms, {(_minor_faults() - f0) / reps:.0f} page faults per run"
        )


def workload_b_report() -> None:
    rets, pairs = workload_b()
    tracemalloc.start()
    t = time.perf_counter()
    spec = make_spec("market_model", "M")
    d = build_design(rets, pairs, spec, (-250, -11), (-5, 5))
    f = fit_arrays(d.y_est, d.X_est, d.y_evt, d.X_evt, spec=spec)
    x = inference.TestInputs.from_fit(f, d.market_est, d.market_evt)
    # Lamb's test needs one market series shared by all firms (one date): not applicable here
    names = ["t_prediction_error", "sq", *(n for n in inference.MULTI_FIRM_TESTS if n != "lamb")]
    res = inference.run_tests(x, np.arange(11), names=names)
    wall = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"B  10,000 firm-events, distinct dates: {wall:.2f} s; tracemalloc peak {peak / 2**20:.0f} MiB; "
        f"process max RSS {rss:.0f} MiB; goal <= 5 s and 2 GB: "
        f"{'met' if wall <= 5 and rss <= 2048 else 'NOT met'} ({len(res)} tests)"
    )


if __name__ == "__main__":
    main()
