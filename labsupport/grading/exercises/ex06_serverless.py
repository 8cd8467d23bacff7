"""Lesson 06 exercises. Expected values come from the model and its pricing formula, never from a table of answers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.sim.serverless import gb_seconds, lambda_cost, lambda_monthly_usd, run_serverless


def _number(got: Any, name: str) -> float:
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(got)):
        raise Wrong(f"{name} must return a number; it returned {got!r}")
    return float(got)


def _direction(got: float, expected: float) -> str:
    return "too high" if got > expected else "too low"


# ---- 06.monthly_cost -------------------------------------------------------------------------------------

def model_monthly_cost(requests: int, duration_ms: float, memory_mb: int, free_tier: bool) -> float:
    """The month's bill for ``requests`` invocations of ``duration_ms`` each at ``memory_mb`` (x86_64)."""
    return lambda_cost(requests, requests * gb_seconds(duration_ms, memory_mb), free_tier=free_tier).total_usd


#: The lesson's own example, printed in the lesson above the exercise: 3 million requests of 120 ms at 512 MB.
LESSON_EXAMPLE = (3_000_000, 120.0, 512, False)


def _example_mistake(got: float) -> str:
    """What a wrong bill for the lesson's example most likely left out, or "" when it matches no known slip."""
    requests, duration_ms, memory_mb, _ = LESSON_EXAMPLE
    bill = lambda_cost(requests, requests * gb_seconds(duration_ms, memory_mb))
    per_gb_s = bill.compute_usd / (requests * gb_seconds(duration_ms, memory_mb))
    slips = {
        "only the request charge: add the GB-seconds × price per GB-second": bill.request_usd,
        "only the compute charge: add requests × price per million / 1,000,000": bill.compute_usd,
        "the duration in milliseconds, not seconds: divide duration_ms by 1,000": bill.request_usd + bill.compute_usd * 1000,
        "the memory in MB, not GB: divide memory_mb by 1,024": bill.request_usd + bill.compute_usd * 1024,
        "a GB of 1,000 MB: AWS counts 1,024 MB to the GB here": bill.request_usd + bill.compute_usd * 1.024,
        "the request price per request, not per million: divide it by 1,000,000": bill.request_usd * 1e6 + bill.compute_usd,
        "the GB-seconds of one request, not of all of them: multiply by requests": bill.request_usd + per_gb_s
        * gb_seconds(duration_ms, memory_mb),
    }
    for slip, value in slips.items():
        if math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-9):
            return slip
    return ""


def _lesson_example_right(answer: Any) -> bool:
    try:
        got = _number(answer(*LESSON_EXAMPLE), "monthly_cost")
    except Exception:  # noqa: BLE001 - the first check reports the learner's error itself
        return False
    return math.isclose(got, model_monthly_cost(*LESSON_EXAMPLE), rel_tol=1e-6, abs_tol=1e-6)


def _lesson_example(answer: Any) -> None:
    """The basic formula, on the example the lesson prints: a wrong bill gets the expected one, split in two."""
    requests, duration_ms, memory_mb, free_tier = LESSON_EXAMPLE
    got = _number(answer(requests, duration_ms, memory_mb, free_tier), "monthly_cost")
    bill = lambda_cost(requests, requests * gb_seconds(duration_ms, memory_mb))
    if math.isclose(got, bill.total_usd, rel_tol=1e-6, abs_tol=1e-6):
        return
    slip = _example_mistake(got)
    raise Wrong(f"for the lesson's example ({requests:,} requests of {duration_ms:g} ms at {memory_mb} MB, without the "
                f"free tier) your function says ${got:,.4f}; the lesson's pricing cell prints ${bill.request_usd:.2f} "
                f"for requests + ${bill.compute_usd:.2f} for compute = ${bill.total_usd:.2f}"
                + (f". It looks like your bill has {slip}" if slip else ""),
                "" if slip else "Two parts: requests × price per million / 1,000,000, and GB-seconds × price per "
                "GB-second, where GB-seconds = requests × seconds × memory in GB.")


def _cost_cases(cases: tuple[tuple[int, float, int, bool], ...], hint: str) -> Any:
    """One refinement of the formula. While the lesson's example is still wrong, this check's hint would point
    at the wrong fix, so a failure then says to fix the first check first (a case that passes still passes)."""
    def test(answer: Any) -> None:
        for requests, duration_ms, memory_mb, free_tier in cases:
            got = _number(answer(requests, duration_ms, memory_mb, free_tier), "monthly_cost")
            expected = model_monthly_cost(requests, duration_ms, memory_mb, free_tier)
            if not math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-6):
                if not _lesson_example_right(answer):
                    raise Wrong("wrong here too, because the basic formula is not right yet: fix the lesson's "
                                "example (the first check) first, then look at this one again")
                tier = "with" if free_tier else "without"
                raise Wrong(f"for {requests:,} requests of {duration_ms:g} ms at {memory_mb} MB, {tier} the free tier, "
                            f"your function says ${got:,.4f}, which is {_direction(got, expected)}", hint)
    return test


@exercise("06.monthly_cost", "a month's Lambda bill from the pricing formula",
          expects="a function monthly_cost(requests, duration_ms, memory_mb, free_tier) that returns US dollars",
          accepts=callable)
def _monthly_cost_tests() -> list[PublicTest]:
    return [
        PublicTest("the lesson's example", 1, _lesson_example),
        PublicTest("durations that are not whole milliseconds", 1, _cost_cases(
            ((1_000_000, 12.3, 1024, False), (2_000_000, 0.4, 128, False)),
            "Lambda bills each invocation's duration rounded up to the next whole millisecond (math.ceil).")),
        PublicTest("memory sizes that are not a power of two", 1, _cost_cases(
            ((1_000_000, 100.0, 1536, False), (4_000_000, 35.0, 1000, False)),
            "A GB here is 1,024 MB, as in AWS's own pricing examples.")),
        PublicTest("the free tier", 2, _cost_cases(
            ((500_000, 50.0, 128, True), (5_000_000, 200.0, 2048, True), (2_000_000, 10.0, 128, True)),
            "The free tier removes the first 1,000,000 requests and 400,000 GB-seconds of the month; a month "
            "that uses less than that pays nothing for that part, never a negative amount.")),
    ]


# ---- 06.break_even_rps -----------------------------------------------------------------------------------

def model_break_even_rps(duration_ms: float, memory_mb: int, vm_usd_per_month: float) -> float:
    """The steady request rate at which a month of Lambda (x86_64, no free tier) costs ``vm_usd_per_month``."""
    lo, hi = 0.0, 1.0
    while lambda_monthly_usd(hi, duration_ms, memory_mb) <= vm_usd_per_month:
        hi *= 2
    for _ in range(80):
        mid = (lo + hi) / 2
        if lambda_monthly_usd(mid, duration_ms, memory_mb) > vm_usd_per_month:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def _break_even_cases(cases: tuple[tuple[float, int, float], ...], hint: str) -> Any:
    def test(answer: Any) -> None:
        for duration_ms, memory_mb, vm_usd in cases:
            got = _number(answer(duration_ms, memory_mb, vm_usd), "break_even_rps")
            expected = model_break_even_rps(duration_ms, memory_mb, vm_usd)
            if not math.isclose(got, expected, rel_tol=2e-3):
                raise Wrong(f"for {duration_ms:g} ms at {memory_mb} MB against VMs costing ${vm_usd:,.2f} a month, "
                            f"your rate of {got:,.3f} requests/s is {_direction(got, expected)}", hint)
    return test


@exercise("06.break_even_rps", "the traffic at which Lambda stops being cheaper than always-on VMs",
          expects="a function break_even_rps(duration_ms, memory_mb, vm_usd_per_month) that returns requests per second",
          accepts=callable)
def _break_even_tests() -> list[PublicTest]:
    return [
        PublicTest("the lesson's function against two m5.large", 1, _break_even_cases(
            ((80.0, 512, 140.16),),
            "Cost per request = request price + billed seconds × GB × price per GB-second; a month of r requests/s "
            "is r × SECONDS_PER_MONTH requests.")),
        PublicTest("other memory sizes and durations", 2, _break_even_cases(
            ((250.0, 1024, 140.16), (15.0, 128, 70.08), (1200.0, 2048, 1000.0)),
            "Does your cost per request include the request charge as well as the GB-seconds?")),
        PublicTest("durations that are not whole milliseconds", 1, _break_even_cases(
            ((2.2, 128, 70.08), (40.5, 256, 140.16)),
            "Each invocation is billed in whole milliseconds, rounded up.")),
    ]


# ---- 06.cold_starts --------------------------------------------------------------------------------------

def model_cold_starts(n_requests: int, gap_ms: float, duration_ms: float, init_ms: float, warm: int) -> int:
    """Cold starts in the model for ``n_requests`` arriving ``gap_ms`` apart on a function with ``warm`` idle
    instances (modelled as provisioned ones: within a burst they behave the same)."""
    arrivals = tuple(i * gap_ms / 1000.0 for i in range(n_requests))
    trace = run_serverless(arrivals_s=arrivals, duration_ms=duration_ms, duration_jitter=0.0, init_s=init_ms / 1000.0,
                           provisioned=warm,
                           duration_s=max(10.0, arrivals[-1] + 1.0) if arrivals else 10.0, idle_expiry_s=3600.0,
                           burst_every_s=None, step_s=1.0)
    return int(np.count_nonzero(trace.series["request_cold"]))


# Every case keeps duration_ms and init_ms + duration_ms off multiples of gap_ms: an instance never becomes free at
# the very instant a request arrives, so float rounding in the model cannot decide a tie differently from the
# learner's arithmetic.
def _cold_cases(cases: tuple[tuple[int, float, float, float, int], ...], hint: str) -> Any:
    def test(answer: Any) -> None:
        for n, gap, duration, init, warm in cases:
            got = answer(n, gap, duration, init, warm)
            if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
                if isinstance(got, float) and got.is_integer():
                    got = int(got)
                else:
                    raise Wrong(f"cold_starts must return a whole number of cold starts; it returned {got!r}")
            expected = model_cold_starts(n, gap, duration, init, warm)
            if int(got) != expected:
                raise Wrong(f"for {n} requests {gap:g} ms apart on a function with {warm} warm idle instance(s), each "
                            f"request taking {duration:g} ms warm and {init:g} ms more when cold, your answer of {int(got)} cold starts is {_direction(int(got), expected)}",
                            hint)
    return test


@exercise("06.cold_starts", "how many cold starts a burst causes",
          expects="a function cold_starts(n_requests, gap_ms, duration_ms, init_ms, warm) that returns a whole number",
          accepts=callable)
def _cold_starts_tests() -> list[PublicTest]:
    follow = ("Follow the requests one by one: keep, for each instance, the time it is free again. A request that "
              "finds a free instance reuses it (and keeps it busy for duration_ms); otherwise a new instance starts, "
              "busy for init_ms + duration_ms.")
    return [
        PublicTest("the lesson's burst", 1, _cold_cases(((60, 30.0, 80.0, 420.0, 2),), follow)),
        PublicTest("no warm instances to start with", 1, _cold_cases(
            ((60, 30.0, 80.0, 420.0, 0), (15, 210.0, 95.0, 130.0, 0), (1, 10.0, 5.0, 5.0, 0)), follow)),
        PublicTest("warm instances take part of the burst", 2, _cold_cases(
            ((60, 10.0, 85.0, 330.0, 3), (40, 7.0, 45.0, 310.0, 5), (100, 13.0, 33.0, 1100.0, 2),
             (30, 20.0, 190.0, 300.0, 4)),
            "The warm instances are busy only duration_ms per request, so each serves several requests while the "
            "new instances are still starting: they take more of the burst than their number.")),
    ]
