"""What each user may open, asked of the scope module directly (kept by `make mutants`)."""

import pytest
from werkzeug.exceptions import NotFound

from tpweb.extensions import db
from tpweb.scope import (
    account_or_404,
    accounts_changeable_by,
    accounts_for,
    contact_or_404,
    contacts_changeable_by,
    contacts_for,
    record_or_404,
    touchpoint_or_404,
    touchpoints_for,
)


@pytest.fixture
def team(app, make):
    """Ann's customer, with a jobsite Bob holds; Bob's own customer; Cy, who holds nothing."""
    team = type("Team", (), {})()
    team.boss = make.manager()
    team.ann, team.bob, team.cy = make.rep(), make.rep(), make.rep()
    team.ann_customer = make.customer(rep=team.ann)
    team.bob_jobsite = make.jobsite(team.ann_customer, rep=team.bob)
    team.bob_customer = make.customer(rep=team.bob)
    team.ann_contact = make.contact(team.ann_customer)
    team.bob_contact = make.contact(team.bob_customer)
    team.touchpoints = {
        account: make.touchpoint(account)
        for account in (team.ann_customer, team.bob_jobsite, team.bob_customer)
    }
    return team


def names(query):
    return sorted(row.id for row in db.session.scalars(query))


def ids(*rows):
    return sorted(row.id for row in rows)


def test_a_rep_opens_their_accounts_and_the_customers_of_their_jobsites(team):
    assert names(accounts_for(team.bob)) == ids(
        team.ann_customer, team.bob_jobsite, team.bob_customer
    )
    # Ann's customer's family holds Bob's jobsite: read together.
    assert names(accounts_for(team.ann)) == ids(team.ann_customer, team.bob_jobsite)
    assert names(accounts_for(team.cy)) == []


def test_a_rep_changes_only_the_accounts_they_hold(team):
    assert names(accounts_changeable_by(team.bob)) == ids(team.bob_jobsite, team.bob_customer)
    assert names(accounts_changeable_by(team.boss)) == ids(
        team.ann_customer, team.bob_jobsite, team.bob_customer
    )
    assert account_or_404(team.bob, team.bob_jobsite.id, "jobsite", change=True)
    with pytest.raises(NotFound):
        account_or_404(team.bob, team.ann_customer.id, "customer", change=True)


def test_a_manager_opens_every_account(team):
    assert names(accounts_for(team.boss)) == ids(
        team.ann_customer, team.bob_jobsite, team.bob_customer
    )


def test_an_account_opens_only_as_its_own_kind_and_only_in_scope(team):
    assert account_or_404(team.bob, team.bob_jobsite.id, "jobsite") == team.bob_jobsite
    assert account_or_404(team.bob, team.ann_customer.id, "customer") == team.ann_customer
    for user, account, kind in [
        (team.bob, team.bob_jobsite.id, "customer"),
        (team.ann, team.bob_customer.id, "customer"),
        (team.cy, team.ann_customer.id, "customer"),
    ]:
        with pytest.raises(NotFound):
            account_or_404(user, account, kind)


def test_a_rep_changes_only_the_touchpoints_of_accounts_they_hold(team):
    # Bob opens Ann's customer through his jobsite, but its touchpoint stays Ann's.
    tps = team.touchpoints
    assert names(touchpoints_for(team.bob)) == ids(tps[team.bob_jobsite], tps[team.bob_customer])
    assert names(touchpoints_for(team.boss)) == ids(*tps.values())
    ann_tp = tps[team.ann_customer]
    assert touchpoint_or_404(team.ann, ann_tp.id, change=True) == ann_tp
    assert touchpoint_or_404(team.boss, ann_tp.id, for_update=True, change=True) == ann_tp
    assert touchpoint_or_404(team.bob, ann_tp.id) == ann_tp  # read across the family
    with pytest.raises(NotFound):
        touchpoint_or_404(team.cy, ann_tp.id)
    for user in (team.bob, team.cy):
        with pytest.raises(NotFound):
            touchpoint_or_404(user, ann_tp.id, change=True)
        with pytest.raises(NotFound):
            touchpoint_or_404(user, ann_tp.id, for_update=True, change=True)


def test_a_rep_opens_the_contacts_of_the_customers_they_open(team):
    assert names(contacts_for(team.bob)) == ids(team.ann_contact, team.bob_contact)
    assert names(contacts_for(team.ann)) == ids(team.ann_contact)
    assert names(contacts_for(team.boss)) == ids(team.ann_contact, team.bob_contact)
    assert contact_or_404(team.bob, team.ann_contact.id) == team.ann_contact
    with pytest.raises(NotFound):
        contact_or_404(team.ann, team.bob_contact.id)
    # Bob reads Ann's contact but changes only his own customer's.
    assert names(contacts_changeable_by(team.bob)) == ids(team.bob_contact)
    assert contact_or_404(team.bob, team.bob_contact.id, change=True) == team.bob_contact
    with pytest.raises(NotFound):
        contact_or_404(team.bob, team.ann_contact.id, change=True)
    with pytest.raises(NotFound):
        contact_or_404(team.cy, team.ann_contact.id)


def test_a_record_opens_on_a_contact_in_scope_or_for_the_rep_it_is_assigned_to(team, make):
    task = make.record(team.bob_contact, team.boss, assigned_to=team.cy, response_required=True)
    note = make.record(team.ann_contact, team.ann)
    assert record_or_404(team.cy, task.id) == task  # assigned to Cy, on a contact Cy cannot open
    assert record_or_404(team.bob, task.id) == task
    assert record_or_404(team.boss, task.id) == task
    assert record_or_404(team.bob, note.id) == note
    with pytest.raises(NotFound):
        record_or_404(team.ann, task.id)
    with pytest.raises(NotFound):
        record_or_404(team.cy, note.id)
