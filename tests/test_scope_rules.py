"""What each user may open, asked of the scope module directly (kept by `make mutants`)."""

import pytest
from sqlalchemy import select

from tpweb.domain.scope import (
    NotVisible,
    account_or_404,
    accounts_changeable_by,
    accounts_for,
    contact_or_404,
    contacts_changeable_by,
    contacts_for,
    customers_for,
    may_change,
    may_open_contact,
    openable_contact,
    openable_contact_of_row,
    record_or_404,
    rep_or_404,
    sales_reps,
    touchpoint_or_404,
    touchpoints_for,
)
from tpweb.extensions import db
from tpweb.models import Account, Contact


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
    with pytest.raises(NotVisible):
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
        with pytest.raises(NotVisible):
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
    with pytest.raises(NotVisible):
        touchpoint_or_404(team.cy, ann_tp.id)
    for user in (team.bob, team.cy):
        with pytest.raises(NotVisible):
            touchpoint_or_404(user, ann_tp.id, change=True)
        with pytest.raises(NotVisible):
            touchpoint_or_404(user, ann_tp.id, for_update=True, change=True)


def test_a_rep_opens_the_contacts_of_the_customers_they_open(team):
    assert names(contacts_for(team.bob)) == ids(team.ann_contact, team.bob_contact)
    assert names(contacts_for(team.ann)) == ids(team.ann_contact)
    assert names(contacts_for(team.boss)) == ids(team.ann_contact, team.bob_contact)
    assert contact_or_404(team.bob, team.ann_contact.id) == team.ann_contact
    with pytest.raises(NotVisible):
        contact_or_404(team.ann, team.bob_contact.id)
    # Bob reads Ann's contact but changes only his own customer's.
    assert names(contacts_changeable_by(team.bob)) == ids(team.bob_contact)
    assert contact_or_404(team.bob, team.bob_contact.id, change=True) == team.bob_contact
    with pytest.raises(NotVisible):
        contact_or_404(team.bob, team.ann_contact.id, change=True)
    with pytest.raises(NotVisible):
        contact_or_404(team.cy, team.ann_contact.id)


def test_a_record_opens_on_a_contact_in_scope_or_for_the_rep_it_is_assigned_to(team, make):
    task = make.record(team.bob_contact, team.boss, assigned_to=team.cy, response_required=True)
    note = make.record(team.ann_contact, team.ann)
    assert record_or_404(team.cy, task.id) == task  # assigned to Cy, on a contact Cy cannot open
    assert record_or_404(team.bob, task.id) == task
    assert record_or_404(team.boss, task.id) == task
    assert record_or_404(team.bob, note.id) == note
    with pytest.raises(NotVisible):
        record_or_404(team.ann, task.id)
    with pytest.raises(NotVisible):
        record_or_404(team.cy, note.id)


def test_customers_for_gives_the_customers_of_the_family_rule(team, make):
    make.customer(rep=team.cy)  # Cy's own, seen by Cy and the manager only
    for user in (team.ann, team.bob, team.cy, team.boss):
        family = accounts_for(user).where(Account.kind == "customer")
        assert names(customers_for(user)) == names(family), user.username
    assert names(customers_for(team.bob)) == ids(team.ann_customer, team.bob_customer)


def test_the_contact_rule_as_a_column_agrees_with_the_query_rule(team, make):
    cy_contact = make.contact(make.customer(rep=team.cy))
    every = (team.ann_contact, team.bob_contact, cy_contact)
    for user in (team.ann, team.bob, team.cy, team.boss):
        as_column = select(Contact.id).where(openable_contact_of_row(user))
        as_query = select(Contact.id).where(openable_contact(user))
        assert sorted(db.session.scalars(as_column)) == sorted(db.session.scalars(as_query))
        assert [may_open_contact(user, c.id) for c in every] == [
            c.id in set(db.session.scalars(as_query)) for c in every
        ]
    assert [may_open_contact(team.bob, c.id) for c in every] == [True, True, False]
    assert [may_open_contact(team.boss, c.id) for c in every] == [True, True, True]


def test_only_active_sales_reps_are_managed_as_reps(team, make):
    gone = make.rep(active=False)
    admin = make.user("admin")
    assert names(sales_reps()) == ids(team.ann, team.bob, team.cy)
    assert rep_or_404(team.ann.id) == team.ann
    for user in (gone, admin, team.boss):
        with pytest.raises(NotVisible):
            rep_or_404(user.id)


def test_may_change_is_the_changeable_rule_for_a_loaded_record(team, make):
    tps = team.touchpoints
    task = make.record(team.ann_contact, team.boss, assigned_to=team.bob, response_required=True)
    assert may_change(team.boss, team.ann_contact) and may_change(team.boss, tps[team.ann_customer])
    assert may_change(team.ann, team.ann_customer) and not may_change(team.bob, team.ann_customer)
    assert may_change(team.ann, team.ann_contact) and not may_change(team.bob, team.ann_contact)
    assert may_change(team.bob, tps[team.bob_jobsite]) and not may_change(
        team.ann, tps[team.bob_jobsite]
    )
    assert may_change(team.bob, task) and not may_change(team.ann, task)


def test_a_response_is_recorded_by_the_assignee_or_a_manager_only(team, make):
    task = make.record(team.ann_contact, team.boss, assigned_to=team.bob, response_required=True)
    assert record_or_404(team.bob, task.id, change=True) == task
    assert record_or_404(team.boss, task.id, change=True) == task
    assert record_or_404(team.ann, task.id) == task  # Ann opens it on her own contact
    with pytest.raises(NotVisible):
        record_or_404(team.ann, task.id, change=True)
