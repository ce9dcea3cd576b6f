"""Demand calendar: weekly rhythm, yearly season and named retail peaks per market.

Event dates follow their public rules (Black Friday = the day after the fourth Thursday of
November, Cyber Monday = the Monday after, 11.11 / 12.12 / 9.9 shopping festivals, Christmas
run-up, Boxing Day). Prime Day-style events are placed on the second Tuesday and Wednesday of
July. Ramadan dates are the published (approximate, moon-sighting dependent) ranges.
Multipliers are simulation parameters, not measurements.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd

#: Approximate first and last day of Ramadan (Umm al-Qura calendar).
RAMADAN: dict[int, tuple[str, str]] = {
    2023: ("2023-03-23", "2023-04-20"),
    2024: ("2024-03-11", "2024-04-09"),
    2025: ("2025-03-01", "2025-03-29"),
    2026: ("2026-02-18", "2026-03-19"),
    2027: ("2027-02-08", "2027-03-09"),
    2028: ("2028-01-28", "2028-02-26"),
}

#: Peak multiplier applied on each day of an event.
PEAK_LIFT: dict[str, float] = {
    "black_friday": 3.2, "cyber_monday": 2.6, "prime_day": 2.8, "christmas": 1.35,
    "boxing_day": 1.9, "singles_day": 4.0, "double_twelve": 2.4, "double_nine": 1.9,
    "ramadan": 1.3, "white_friday": 2.6, "new_year": 1.4, "year_end": 1.4,
}


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def event_days(event: str, year: int) -> list[dt.date]:
    """The calendar days of ``event`` in ``year``."""
    d = dt.date
    if event in ("black_friday", "white_friday"):
        bf = _nth_weekday(year, 11, 3, 4) + dt.timedelta(days=1)
        return [bf - dt.timedelta(days=1), bf, bf + dt.timedelta(days=1)]
    if event == "cyber_monday":
        return [_nth_weekday(year, 11, 3, 4) + dt.timedelta(days=4)]
    if event == "prime_day":
        t = _nth_weekday(year, 7, 1, 2)
        return [t, t + dt.timedelta(days=1)]
    if event == "christmas":
        return [d(year, 12, k) for k in range(1, 23)]
    if event == "boxing_day":
        return [d(year, 12, 26), d(year, 12, 27)]
    if event == "singles_day":
        return [d(year, 11, 11)]
    if event == "double_twelve":
        return [d(year, 12, 12)]
    if event == "double_nine":
        return [d(year, 9, 9)]
    if event == "new_year":
        return [d(year, 12, k) for k in range(20, 31)]
    if event == "year_end":
        return [d(year, 12, k) for k in range(15, 31)]
    if event == "ramadan":
        if year not in RAMADAN:
            return []
        a, b = (dt.date.fromisoformat(x) for x in RAMADAN[year])
        return [a + dt.timedelta(days=k) for k in range((b - a).days + 1)]
    raise KeyError(f"unknown event {event!r}")


def peak_table(days: pd.DatetimeIndex, peaks_by_market: dict[str, list[str]]) -> pd.DataFrame:
    """Rows (market, date, event) for every event day inside ``days``."""
    years = sorted(set(days.year))
    lo, hi = days.min().date(), days.max().date()
    rows = []
    for m, events in peaks_by_market.items():
        for e in events:
            for y in years:
                rows += [(m, x, e) for x in event_days(e, y) if lo <= x <= hi]
    out = pd.DataFrame(rows, columns=["market", "date", "event"])
    out["date"] = pd.to_datetime(out["date"])
    return out


def demand_multiplier(days: pd.DatetimeIndex, peaks: list[str], *, growth: float = 0.25,
                      southern: bool = False) -> np.ndarray:
    """Relative daily demand for one market: weekly × yearly × event lift × trend.

    Cached per (period, peaks, growth, hemisphere): every stage that asks gets the same
    (read-only) array without recomputing it.
    """
    day_ns = 86_400 * 10**9
    regular = len(days) > 0 and bool((np.diff(days.as_unit("ns").asi8) == day_ns).all())
    if not regular:
        return _demand_multiplier(days, list(peaks), growth, southern)
    out = _cached_multiplier(days.as_unit("ns")[0].value, len(days), tuple(peaks),
                             float(growth), bool(southern))
    return out


@functools.lru_cache(maxsize=512)
def _cached_multiplier(start_ns: int, n: int, peaks: tuple[str, ...], growth: float,
                       southern: bool) -> np.ndarray:
    days = pd.date_range(pd.Timestamp(start_ns), periods=n, freq="D").as_unit("ns")
    out = _demand_multiplier(days, list(peaks), growth, southern)
    out.flags.writeable = False
    return out


def _demand_multiplier(days: pd.DatetimeIndex, peaks: list[str], growth: float,
                       southern: bool) -> np.ndarray:
    dow = days.day_of_week.to_numpy()
    weekly = np.array([1.00, 0.98, 0.97, 0.99, 1.02, 1.08, 1.10])[dow]
    doy = days.day_of_year.to_numpy()
    phase = 0.0 if not southern else np.pi
    yearly = 1.0 + 0.18 * np.cos(2 * np.pi * (doy - 340) / 365.25 + phase)
    t = (days - days[0]).days.to_numpy() / 365.25
    trend = (1.0 + growth) ** t
    lift = np.ones(len(days))
    pt = peak_table(days, {"_": peaks})
    if len(pt):
        idx = pd.Index(days.normalize()).get_indexer(pt["date"])
        lifts = pt["event"].map(PEAK_LIFT).to_numpy()
        ok = idx >= 0
        np.maximum.at(lift, idx[ok], lifts[ok])
    return weekly * yearly * trend * lift
