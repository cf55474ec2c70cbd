"""The day's route: drive times (a great-circle estimate, or an OSRM server's table) and the
prize-collecting route OR-Tools finds in them. No Flask here, and nothing of the database.

Nodes of a problem: 0 is where the day starts, 1..n the stops, n + 1 where it ends (the start
again, or "anywhere": a node every stop reaches at no cost). Times are whole seconds.
"""

import itertools
import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
# Road distance over great-circle distance: 1.3 is the usual figure for road networks outside
# city centres (a grid city is nearer 1.4, open country 1.2); TPWEB_ROAD_FACTOR changes it.
ROAD_FACTOR = 1.3
# A field rep's average speed door to door, town and highway mixed (TPWEB_AVERAGE_SPEED_KMH).
AVERAGE_SPEED_KMH = 50.0
# How long the search runs: guided local search never stops by itself (or-tools #1049), so the
# limit is what a plan costs in CPU (docs/benchmarks.md, B6).
SEARCH_SECONDS = 0.8
# A stop's value, in hundredths, times this and the day's length in seconds is its penalty for
# being left out: dropping 0.01 of value then costs more than any route the day can hold, so
# the solver first collects the most value and only then shortens the drive.
VALUE_UNITS = 100


@dataclass(frozen=True)
class Travel:
    """Drive times between points in seconds, and whether a road router gave them."""

    seconds: list[list[int]]
    source: str  # "estimate" (great circle) or "road" (OSRM)


def great_circle_km(a, b):
    """The distance in km between (lat, lon) points `a` and `b` (the haversine formula)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def estimated_seconds(points, road_factor=ROAD_FACTOR, speed_kmh=AVERAGE_SPEED_KMH):
    """Drive times between `points`: great-circle km × road factor ÷ average speed."""
    per_km = 3600.0 * road_factor / speed_kmh
    return [[round(great_circle_km(a, b) * per_km) for b in points] for a in points]


class RoutingUnavailable(Exception):
    """The routing server did not give a usable table."""


def osrm_seconds(base_url, points, timeout=3.0):
    """Drive times between `points` from an OSRM server's table service
    (GET {base_url}/table/v1/driving/{lon},{lat};...?annotations=duration).

    Raises RoutingUnavailable for no answer within `timeout`, an error, or a table of the wrong
    shape. A pair the server cannot route (null) is left None for the caller to estimate.
    """
    coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
    url = f"{base_url.rstrip('/')}/table/v1/driving/{coordinates}?annotations=duration"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            answer = json.loads(response.read(5_000_000))
    except (OSError, ValueError, urllib.error.URLError) as error:
        raise RoutingUnavailable(str(error)) from error
    table = answer.get("durations") if isinstance(answer, dict) else None
    if answer.get("code") != "Ok" or not _square(table, len(points)):
        raise RoutingUnavailable(f"no duration table in the answer ({answer.get('code')!r})")
    return [[None if cell is None else round(cell) for cell in row] for row in table]


def _square(table, size):
    return (
        isinstance(table, list)
        and len(table) == size
        and all(isinstance(row, list) and len(row) == size for row in table)
        and all(cell is None or isinstance(cell, int | float) for row in table for cell in row)
    )


def travel_times(points, *, routing_url="", timeout=3.0, **estimate):
    """Drive times between `points`: the OSRM server's when `routing_url` names one and it
    answers, else (and for each pair it cannot route) the great-circle estimate."""
    estimated = estimated_seconds(points, **estimate)
    if not routing_url or len(points) < 2:
        return Travel(estimated, "estimate")
    try:
        road = osrm_seconds(routing_url, points, timeout)
    except RoutingUnavailable:
        return Travel(estimated, "estimate")
    merged = [
        [guess if cell is None else cell for cell, guess in zip(row, guesses, strict=True)]
        for row, guesses in zip(road, estimated, strict=True)
    ]
    return Travel(merged, "road")


@dataclass
class Route:
    """The solver's answer: stops (1..n) in order, the second each is reached, those dropped."""

    order: list[int]
    arrivals: list[int]
    dropped: list[int]
    end: int  # the second the day ends (back at the start, or at the last stop)
    drive: int  # seconds driven


def penalty(value_units, horizon):
    """What leaving a stop worth `value_units` out costs: more than any drive the day holds."""
    return value_units * (horizon + 1)


def solve(
    seconds,
    values,
    visits,
    horizon,
    *,
    end_anywhere=False,
    search_seconds=SEARCH_SECONDS,
    ranks=None,
    required=(),
):
    """The most valuable route within `horizon` seconds, the shortest of those it finds; None
    when the `required` stops (nodes with no disjunction: *Why not …?*) cannot all fit.

    `seconds`: drive times between the start (0) and the stops (1..n), n + 1 rows and columns;
    `values`: each stop's value in whole units, `visits`: each stop's visit in seconds (lists
    of n). Back to the start unless `end_anywhere`. A disjunction per stop with its penalty for
    being left out (penalty()), a time dimension of drive + visit capped at the horizon, and
    guided local search for `search_seconds` from the better of two greedy routes (seeds()).
    `ranks`: each stop's urgency class (0 most urgent), for the "nearest most urgent next" seed.
    """
    n = len(values)
    # Node n + 1: the start's twin, or a point that every node reaches in no time.
    matrix = [row + [0 if end_anywhere else row[0]] for row in seconds]
    matrix.append([0] * (n + 2) if end_anywhere else matrix[0][:])
    service = [0, *visits, 0]
    greedy = seeds(matrix, values, service, horizon, n + 1, ranks)
    if required:
        greedy = [with_required(matrix, values, service, horizon, o, required) for o in greedy]
    seed = max(greedy, key=lambda order: (sum(values[node - 1] for node in order), -len(order)))
    if required and _end(matrix, service, seed) > horizon:
        return None  # the required stops alone do not fit
    manager, model = _model(matrix, values, service, horizon, required)
    parameters = _parameters(search_seconds)
    model.CloseModelWithParameters(parameters)
    # Local search alone hardly leaves its first route on a tight day (trading one far stop for
    # two near ones takes several moves at once): started from a good greedy route it only
    # improves on it, so a plan never collects less than the rule a rep would follow by hand.
    # On a loaded machine the time limit can run out before the seed is even read, or before
    # the search improves on it: then the seed is the route.
    initial = model.ReadAssignmentFromRoutes([seed], True)
    if initial is not None:
        solution = model.SolveFromAssignmentWithParameters(initial, parameters)
        if solution is not None:
            return _route(matrix, service, _order(manager, model, solution))
    return _route(matrix, service, seed)


def _model(matrix, values, service, horizon, required):
    """The routing model of one vehicle from node 0 to the last node of `matrix`: drive time
    as the cost, a "time" dimension of visit + drive capped at `horizon`, and a disjunction
    with its penalty for each stop but the `required` ones."""
    # OR-Tools (21 MB a process) only where a plan is made: not in the worker, nor at start.
    from ortools.constraint_solver import pywrapcp

    n = len(values)
    manager = pywrapcp.RoutingIndexManager(n + 2, 1, [0], [n + 1])
    model = pywrapcp.RoutingModel(manager)

    def drive(i, j):
        return matrix[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def busy(i, j):
        node = manager.IndexToNode(i)
        return service[node] + matrix[node][manager.IndexToNode(j)]

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(drive))
    model.AddDimension(model.RegisterTransitCallback(busy), 0, horizon, True, "time")
    for node in range(1, n + 1):
        if node not in required:
            model.AddDisjunction([manager.NodeToIndex(node)], penalty(values[node - 1], horizon))
    return manager, model


def _parameters(search_seconds):
    """Guided local search for `search_seconds` (or-tools #1209: cheapest insertion first with
    optional stops)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.time_limit.FromMilliseconds(max(1, round(search_seconds * 1000)))
    return parameters


def _order(manager, model, solution):
    """The stops of `solution`'s route, in order."""
    order = []
    index = solution.Value(model.NextVar(model.Start(0)))
    while not model.IsEnd(index):
        order.append(manager.IndexToNode(index))
        index = solution.Value(model.NextVar(index))
    return order


def _route(matrix, service, order):
    """The Route along `order`, shortened by polish(), timed in `matrix`."""
    order = polish(matrix, order)
    end = len(matrix) - 1
    arrivals, at, here = [], 0, 0
    for node in order:
        at += matrix[here][node]
        arrivals.append(at)
        at += service[node]
        here = node
    nodes = [0, *order, end]
    return Route(
        order=order,
        arrivals=arrivals,
        dropped=[node for node in range(1, end) if node not in order],
        end=at + matrix[here][end],
        drive=sum(matrix[a][b] for a, b in zip(nodes, nodes[1:], strict=False)),
    )


def polish(matrix, order):
    """`order` made shorter by reversing a stretch of it (2-opt) or moving a stop elsewhere, as
    long as either helps. The same stops, so the same visits: a shorter drive only ends the day
    earlier. The search has done this already when it had the CPU; on a loaded machine it may
    not have (docs/benchmarks.md, B6), and this costs milliseconds."""
    end = len(matrix) - 1
    best = list(order)

    def length(route):
        nodes = [0, *route, end]
        return sum(matrix[a][b] for a, b in zip(nodes, nodes[1:], strict=False))

    shortest = length(best)
    improved = True
    while improved:
        improved = False
        for i, j in itertools.combinations(range(len(best) + 1), 2):
            for tried in (
                best[:i] + best[i:j][::-1] + best[j:],
                best[:i] + best[i + 1 : j] + [best[i]] + best[j:] if i < len(best) else None,
                best[:i] + [best[j - 1]] + best[i : j - 1] + best[j:],
            ):
                if tried is not None and (total := length(tried)) < shortest:
                    best, shortest, improved = tried, total, True
    return best


def seeds(matrix, values, service, horizon, end, ranks=None):
    """Greedy routes to start the search from: the next stop always the nearest of the most
    urgent class (`ranks`) that still leaves time to reach the end, and the next stop always
    the one of most value per second spent reaching and visiting it."""
    n = len(values)

    def build(choose):
        here, at, order, left = 0, 0, [], set(range(1, n + 1))
        while True:
            fits = [
                node
                for node in left
                if at + matrix[here][node] + service[node] + matrix[node][end] <= horizon
            ]
            if not fits:
                return order
            node = min(fits, key=lambda node: choose(here, node))
            at += matrix[here][node] + service[node]
            order.append(node)
            left.remove(node)
            here = node

    ranked = ranks or [0] * n
    return [
        build(lambda here, node: (ranked[node - 1], matrix[here][node])),
        build(lambda here, node: -values[node - 1] / (1 + matrix[here][node] + service[node])),
    ]


def with_required(matrix, values, service, horizon, order, required):
    """`order` with the `required` stops each put where it adds least time, then the least
    valuable other stop taken out until the route fits: what a rep would do by hand. The
    order is returned as it is when the required stops alone do not fit."""
    order = list(order)
    for node in required:
        if node in order:
            continue
        places = range(len(order) + 1)
        at = min(places, key=lambda i: _end(matrix, service, order[:i] + [node] + order[i:]))
        order.insert(at, node)
    while _end(matrix, service, order) > horizon:
        others = [node for node in order if node not in required]
        if not others:
            break
        order.remove(min(others, key=lambda node: values[node - 1]))
    return order


def _end(matrix, service, order):
    """When a route along `order` ends, in `matrix` (the end node last)."""
    nodes = [0, *order, len(matrix) - 1]
    return sum(matrix[a][b] + service[b] for a, b in zip(nodes, nodes[1:], strict=False))


def timed(seconds, visits, order, begin=0, *, end_anywhere=False):
    """(arrival second of each stop of `order`, the second the day ends, seconds driven) along
    `order` as given, from `begin`: the route a rep rearranged by hand."""
    at, here, drive, arrivals = begin, 0, 0, []
    for node in order:
        at += seconds[here][node]
        drive += seconds[here][node]
        arrivals.append(at)
        at += visits[node - 1]
        here = node
    if not end_anywhere:
        at += seconds[here][0]
        drive += seconds[here][0]
    return arrivals, at, drive
