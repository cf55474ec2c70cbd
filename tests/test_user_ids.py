"""A manager acts on sales reps only: every user id a manager's page or action takes names an
active rep, or answers 404 and changes nothing. Managers and admins are the admin's to manage."""

import re

import pytest

from tpweb.extensions import db
from tpweb.models import Account, User

from .conftest import Database
from .factories import PASSWORD

# The routes where a manager picks a rep with ?rep=<id>: a filter names a rep too.
REP_FILTERS = (
    "/touchpoints?view=list&rep={id}",
    "/touchpoints?view=map&rep={id}",
    "/touchpoints/map-frame?rep={id}",
    "/unassigned?rep={id}",
)


@pytest.fixture
def team(app, make):
    """Two managers, an admin, a rep with an account, a deactivated rep; manager2 signed in,
    manager1 signed in on a client of their own."""
    people = {
        "manager1": make.manager(name="Manager One"),
        "manager2": make.manager(name="Manager Two"),
        "admin": make.user("admin", name="Admin Person"),
        "rep": make.rep(name="Rita Rep"),
        "other_rep": make.rep(name="Otto Rep"),
        "deactivated": make.rep(name="Gone Rep", active=False),
    }
    # A manager may be an account's sales rep: the Sales Rep pages still are not theirs.
    people["manager_account"] = make.customer(rep=people["manager1"], name="Manager Co")
    people["rep_account"] = make.customer(rep=people["rep"], name="Rep Co")
    people["clients"] = {who: signed_in(app, people[who]) for who in ("manager1", "manager2")}
    return people


def signed_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 303
    return client


def reps_rules(app):
    """Every rule of the Sales Rep pages that names a user: new ones are tried as they come."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("reps.")]
    return [r for r in rules if "rep_id" in r.arguments]


def reassign_form(team, target_key="rep"):
    accounts = [team["manager_account"].id, team["rep_account"].id]
    return {"account_ids": accounts, "to_rep_id": team[target_key].id, "move_tasks": "y"}


@pytest.mark.parametrize("target", ["manager1", "admin", "deactivated", "manager2"])
def test_every_reps_route_with_a_user_who_is_not_an_active_rep_is_404(app, team, target):
    """manager2 on each Sales Rep route with manager1's, the admin's, a deactivated rep's id
    (and their own): 404, nothing changed, and manager1 still signed in."""
    client = team["clients"]["manager2"]
    user_id = team[target].id
    database = Database()
    tried = []
    for rule in reps_rules(app):
        url = re.sub(r"<(?:[^:<>]+:)?rep_id>", str(user_id), rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data=reassign_form(team))
            tried.append(f"{method} {url}")
            assert response.status_code == 404, (method, url, response.status_code)
            assert not database.changes(), (method, url)
    assert {"GET", "POST"} <= {each.split()[0] for each in tried}
    assert any("/deactivate" in each for each in tried) and any(
        "/reassign" in each for each in tried
    )
    db.session.expire_all()
    assert db.session.get(User, team[target].id).active == (target != "deactivated")
    assert db.session.get(Account, team["manager_account"].id).sales_rep_id == team["manager1"].id
    assert team["clients"]["manager1"].get("/reps").status_code == 200


def test_manager2_cannot_deactivate_manager1_who_stays_signed_in(team):
    """The outside tester's exact request: 404, and manager1's session goes on."""
    manager1 = team["manager1"]
    version = manager1.session_version
    team["manager_account"].sales_rep_id = team["rep"].id  # nothing left to hand over
    db.session.commit()

    response = team["clients"]["manager2"].post(f"/reps/{manager1.id}/deactivate")

    assert response.status_code == 404
    db.session.expire_all()
    assert manager1.active and manager1.session_version == version
    page = team["clients"]["manager1"].get("/reps")
    assert page.status_code == 200 and "Manager One" in page.text


@pytest.mark.parametrize("target", ["manager1", "admin", "deactivated", "manager2"])
def test_a_reassignment_goes_to_an_active_rep_only(team, target):
    """The Move to target is a rep too: anyone else is refused (422) and nothing moves."""
    client = team["clients"]["manager2"]
    rep = team["rep"]
    database = Database()

    response = client.post(
        f"/reps/{rep.id}/reassign",
        data={"account_ids": [team["rep_account"].id], "to_rep_id": team[target].id},
    )

    assert response.status_code == 422
    assert "Choose the rep who takes these accounts over." in response.text
    assert not database.changes()


def test_the_move_to_choices_are_the_other_active_reps(team):
    page = team["clients"]["manager2"].get(f"/reps/{team['rep'].id}").text
    choices = re.search(r'<select name="to_rep_id".*?</select>', page, re.S).group(0)
    offered = set(re.findall(r'<option value="(\d+)"', choices))
    assert offered == {str(team["other_rep"].id)}


@pytest.mark.parametrize("target", ["manager1", "admin", "deactivated"])
@pytest.mark.parametrize("pattern", REP_FILTERS)
def test_a_rep_filter_names_an_active_rep(team, target, pattern):
    client = team["clients"]["manager2"]
    assert client.get(pattern.format(id=team[target].id)).status_code == 404
    assert client.get(pattern.format(id=team["rep"].id)).status_code == 200


def test_the_team_lists_active_reps_only(team):
    page = team["clients"]["manager2"].get("/reps").text
    assert "Rita Rep" in page and "Otto Rep" in page
    rows = set(re.findall(r'id="rep-(\d+)"', page))
    assert rows == {str(team["rep"].id), str(team["other_rep"].id)}
