"""A rep's day planned and saved in the domain, no request: from a fixed place, from eight until
half past eleven."""

from tpweb.domain.plan import arrange, candidates
from tpweb.domain.saved_plans import Settings, save
from tpweb.domain.visit_lengths import VisitLengths
from tpweb.extensions import db

START = (41.88, -87.63)
EIGHT, HALF_PAST_ELEVEN = 8 * 3600, 11 * 3600 + 1800
SEARCH = 0.2


def plan_day(rep, today, *, until=HALF_PAST_ELEVEN, visit=30):
    found = candidates(rep, today)
    day = arrange(
        found, today, start=START, begin=EIGHT, until=until, visits=VisitLengths(visit),
        search_seconds=SEARCH,
    )  # fmt: skip
    settings = Settings(START, "here", "start", EIGHT // 60, until // 60, None)
    plan = save(rep, rep, today, settings, day)
    db.session.commit()
    return plan
