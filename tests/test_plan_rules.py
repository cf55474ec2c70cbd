"""Plan my day's rules without an app: stop values, drive times, and the solver's route against
the best route found by trying every order of every choice of stops."""

import itertools
import random
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tpweb.domain import navigate, routing
from tpweb.domain.plan import (
    DUE_TODAY_VALUE,
    OVERDUE_VALUE,
    Candidate,
    arrange,
    reasons,
    stop_value,
)
from tpweb.domain.visit_lengths import VisitLengths

TODAY = date(2026, 3, 10)
# Short searches: the small instances are solved in well under this.
SEARCH = 0.2


def best_by_brute_force(seconds, values, visits, horizon, end_anywhere):
    """(value collected, seconds driven, the orders achieving them): every order of every
    choice of stops tried, with the solver's own model of time and value."""
    n = len(values)
    best, orders = (0, 0), [()]
    for size in range(1, n + 1):
        for chosen in itertools.permutations(range(1, n + 1), size):
            arrivals, end, drive = routing.timed(seconds, visits, chosen, end_anywhere=end_anywhere)
            if end > horizon:
                continue
            value = sum(values[node - 1] for node in chosen)
            key = (value, -drive)
            if key > best:
                best, orders = key, [chosen]
            elif key == best:
                orders.append(chosen)
    return best[0], -best[1], orders


def instance(seed):
    """A random small day: up to 8 stops within ~40 km, values 1..40, visits 10..60 min."""
    rng = random.Random(seed)
    n = rng.randint(1, 8)
    base = (41.8 + rng.uniform(-0.2, 0.2), -87.7 + rng.uniform(-0.2, 0.2))
    points = [base] + [
        (base[0] + rng.uniform(-0.2, 0.2), base[1] + rng.uniform(-0.25, 0.25)) for _ in range(n)
    ]
    seconds = routing.estimated_seconds(points)
    values = [rng.randint(100, 4000) for _ in range(n)]
    visits = [rng.choice((10, 20, 30, 45, 60)) * 60 for _ in range(n)]
    horizon = rng.randint(1, 6) * 3600
    return seconds, values, visits, horizon, rng.random() < 0.4


@pytest.mark.parametrize("seed", range(24))
def test_the_route_is_the_best_of_every_order_and_never_exceeds_the_hours(seed):
    seconds, values, visits, horizon, anywhere = instance(seed)
    route = routing.solve(
        seconds, values, visits, horizon, end_anywhere=anywhere, search_seconds=SEARCH
    )
    value, drive, orders = best_by_brute_force(seconds, values, visits, horizon, anywhere)
    arrivals, end, driven = routing.timed(seconds, visits, route.order, end_anywhere=anywhere)
    assert end <= horizon and route.end == end
    assert route.arrivals == arrivals
    assert sum(values[node - 1] for node in route.order) == value
    assert driven == drive == route.drive
    assert tuple(route.order) in orders
    assert sorted(route.order + route.dropped) == list(range(1, len(values) + 1))


@pytest.mark.parametrize("seed", range(24, 40))
def test_a_more_valuable_stop_is_never_dropped_for_a_less_valuable_one_when_both_fit(seed):
    seconds, values, visits, horizon, anywhere = instance(seed)
    route = routing.solve(
        seconds, values, visits, horizon, end_anywhere=anywhere, search_seconds=SEARCH
    )
    for dropped in route.dropped:
        for kept in route.order:
            if values[dropped - 1] <= values[kept - 1]:
                continue
            # The plan with `kept` exchanged for `dropped`, in its best order, does not fit.
            others = [node for node in route.order if node != kept] + [dropped]
            fits = any(
                routing.timed(seconds, visits, order, end_anywhere=anywhere)[1] <= horizon
                for order in itertools.permutations(others)
            )
            assert not fits, f"stop {dropped} (value {values[dropped - 1]}) dropped for {kept}"


def test_a_stop_too_far_for_the_day_is_dropped_and_a_near_one_kept():
    points = [(41.88, -87.63), (41.89, -87.62), (44.0, -90.0)]
    seconds = routing.estimated_seconds(points)
    route = routing.solve(seconds, [100, 5000], [1800, 1800], 4 * 3600, search_seconds=SEARCH)
    assert route.order == [1] and route.dropped == [2]


def test_values_rank_overdue_by_lateness_then_due_today_then_upcoming_and_tasks_add():
    late = stop_value(TODAY - timedelta(days=12), 30, TODAY, 0)
    later = stop_value(TODAY - timedelta(days=12), 7, TODAY, 0)
    today = stop_value(TODAY, 30, TODAY, 0)
    soon = stop_value(TODAY + timedelta(days=1), 30, TODAY, 0)
    week = stop_value(TODAY + timedelta(days=7), 30, TODAY, 0)
    assert later > late > OVERDUE_VALUE > today == DUE_TODAY_VALUE > soon > week > 0
    assert stop_value(TODAY, 30, TODAY, 1) > today
    assert stop_value(None, None, TODAY, 1) > 0
    # Lateness is capped: a weekly account a year late does not outweigh every other stop.
    assert stop_value(TODAY - timedelta(days=365), 7, TODAY, 0) == stop_value(
        TODAY - timedelta(days=100), 7, TODAY, 0
    )


def candidate(key, lat=41.88, lon=-87.63, next_call=TODAY, tasks=()):
    return Candidate(
        account_id=key,
        account_kind="customer",
        name=f"Account {key}",
        customer_name=None,
        phone="",
        address="",
        latitude=lat,
        longitude=lon,
        touchpoint_id=key if next_call else None,
        next_call=next_call,
        frequency_days=30 if next_call else None,
        tasks=tuple(tasks),
    )


def test_reasons_say_why_a_stop_is_on_the_plan():
    assert reasons(candidate(1, next_call=TODAY - timedelta(days=12)), TODAY) == ["overdue 12 days"]
    assert reasons(candidate(2, next_call=TODAY - timedelta(days=1)), TODAY) == ["overdue 1 day"]
    assert reasons(candidate(3), TODAY) == ["due today"]
    assert reasons(candidate(4, next_call=TODAY + timedelta(days=2)), TODAY) == ["due in 2 days"]
    assert reasons(candidate(5, next_call=None, tasks=["quote"]), TODAY) == ["open task: quote"]


def test_unlocated_stops_are_left_out_with_their_reason_and_the_rest_planned():
    stops = [
        candidate(1, next_call=TODAY - timedelta(days=3)),
        candidate(2, lat=None, lon=None, next_call=TODAY - timedelta(days=30)),
        candidate(3, lat=41.9, lon=-87.65),
    ]
    day = arrange(
        stops,
        TODAY,
        start=(41.87, -87.64),
        begin=8 * 3600,
        until=17 * 3600,
        visits=VisitLengths(30),
        search_seconds=SEARCH,
    )
    assert [stop.candidate.account_id for stop in day.stops] in ([1, 3], [3, 1])
    assert [(left.candidate.account_id, left.why) for left in day.left_out] == [(2, "no location")]
    first = day.stops[0]
    assert 8 * 3600 < first.arrival < 9 * 3600


def test_stops_that_do_not_fit_are_left_out_for_want_of_time():
    stops = [candidate(n, lat=41.88 + n / 100) for n in range(1, 6)]
    day = arrange(
        stops,
        TODAY,
        start=(41.88, -87.63),
        begin=8 * 3600,
        until=9 * 3600 + 600,
        visits=VisitLengths(30),
        search_seconds=SEARCH,
    )
    assert len(day.stops) == 2
    assert {left.why for left in day.left_out} == {"no time"}
    assert day.stops[-1].arrival + 1800 <= day.end <= 9 * 3600 + 600


def test_great_circle_and_the_estimate():
    chicago, milwaukee = (41.8781, -87.6298), (43.0389, -87.9065)
    assert routing.great_circle_km(chicago, milwaukee) == pytest.approx(130.6, abs=0.5)
    seconds = routing.estimated_seconds([chicago, milwaukee], road_factor=1.3, speed_kmh=50)
    assert seconds[0][1] == seconds[1][0] == pytest.approx(130.6 * 1.3 / 50 * 3600, rel=0.01)
    assert seconds[0][0] == 0


def test_a_long_day_goes_to_google_maps_in_legs_of_nine_waypoints_each_from_the_last():
    points = [(41.0 + n / 100, -87.0) for n in range(25)]
    legs = [parse_qs(urlsplit(url).query) for url in navigate.google_legs(points)]
    assert len(legs) == 3
    along = [legs[0]["origin"][0]]
    for leg in legs:
        assert leg["origin"][0] == along[-1]
        along += (leg["waypoints"][0].split("|") if "waypoints" in leg else []) + leg["destination"]
        assert len(leg.get("waypoints", [""])[0].split("|")) <= navigate.MAX_WAYPOINTS
    assert along == [f"{lat:.6f},{lon:.6f}" for lat, lon in points]
    assert navigate.google_legs(points[:1]) == []


def test_a_required_stop_is_on_the_route_and_one_that_cannot_fit_gives_no_route():
    start, near, far = (41.88, -87.63), (41.89, -87.62), (42.2, -87.9)
    seconds = routing.estimated_seconds([start, near, far])
    hours = 4 * 3600
    free = routing.solve(seconds, [5000, 100], [1800, 1800], hours, search_seconds=SEARCH)
    forced = routing.solve(
        seconds, [5000, 100], [1800, 1800], hours, search_seconds=SEARCH, required=(2,)
    )
    assert 2 in forced.order and forced.end <= hours
    assert free.end <= hours
    assert (
        routing.solve(
            seconds, [5000, 100], [1800, 1800], 3600, search_seconds=SEARCH, required=(2,)
        )
        is None
    )


def test_with_required_puts_the_stop_in_and_takes_out_the_least_valuable_until_it_fits():
    # A start, three stops in a row eastwards, one far north: the far one forced in leaves
    # room for one of the near ones only, the most valuable.
    points = [(41.88, -87.63), (41.88, -87.62), (41.88, -87.61), (41.88, -87.60), (42.2, -87.63)]
    seconds = routing.estimated_seconds(points)
    matrix = [row + [row[0]] for row in seconds] + [[*seconds[0], 0]]
    service = [0, 1800, 1800, 1800, 1800, 0]
    values = [300, 200, 100, 50]
    horizon = 2 * seconds[0][4] + 1800 + 1800 + 600
    order = routing.with_required(matrix, values, service, horizon, [1, 2, 3], (4,))
    assert sorted(order) == [1, 4]


@pytest.mark.parametrize("seed", range(8))
def test_polish_never_lengthens_a_route_and_keeps_its_stops(seed):
    rng = random.Random(seed)
    points = [(41.8 + rng.uniform(-0.2, 0.2), -87.7 + rng.uniform(-0.2, 0.2)) for _ in range(9)]
    seconds = routing.estimated_seconds(points)
    matrix = [row + [row[0]] for row in seconds] + [[*seconds[0], 0]]
    order = list(range(1, 9))
    rng.shuffle(order)
    polished = routing.polish(matrix, order)

    def drive(route):
        nodes = [0, *route, len(matrix) - 1]
        return sum(matrix[a][b] for a, b in zip(nodes, nodes[1:], strict=False))

    assert sorted(polished) == sorted(order)
    assert drive(polished) <= drive(order)
    # No two legs cross: reversing any stretch makes it no shorter (2-opt).
    for i, j in itertools.combinations(range(len(polished) + 1), 2):
        assert drive(polished[:i] + polished[i:j][::-1] + polished[j:]) >= drive(polished)


def test_polish_uncrosses_a_crossed_square():
    # Start at a corner; the stops at the other three corners visited across the diagonal.
    points = [(41.0, -87.0), (41.0, -86.9), (41.1, -87.0), (41.1, -86.9)]
    seconds = routing.estimated_seconds(points)
    matrix = [row + [row[0]] for row in seconds] + [[*seconds[0], 0]]
    assert routing.polish(matrix, [1, 2, 3]) in ([1, 3, 2], [2, 3, 1])


def test_a_search_with_no_time_at_all_keeps_the_greedy_route():
    # The least limit there is (1 ms): it can run out before the seed is even read, as on a
    # starved machine; the route is then the greedy one, timed the same way.
    seconds, values, visits, horizon, anywhere = instance(5)
    route = routing.solve(
        seconds, values, visits, horizon, end_anywhere=anywhere, search_seconds=1e-6
    )
    arrivals, end, drive = routing.timed(seconds, visits, route.order, end_anywhere=anywhere)
    assert end <= horizon and (route.arrivals, route.end, route.drive) == (arrivals, end, drive)
    assert sorted(route.order + route.dropped) == list(range(1, len(values) + 1))
