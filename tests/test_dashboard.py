"""The dashboard's touchpoint and Unassigned widgets, /unassigned paging and error pages."""

import html
import re
from datetime import timedelta

import pytest

HTMX = {"HX-Request": "true"}


@pytest.fixture
def rep(make):
    return make.rep(name="Rita Rep")


@pytest.fixture
def accounts(make, rep, today):
    """Rita's and Otto's accounts: some need a touchpoint, some must not be listed."""
    other = make.rep(name="Otto Other")
    fresh = make.customer(rep=rep, name="Fresh Co")
    tracked = make.customer(rep=rep, name="Tracked Co")
    make.touchpoint(tracked, last_call=today)
    dropped = make.customer(rep=rep, name="Dropped Co")
    make.touchpoint(dropped, last_call=today - timedelta(days=60), inactive=True)
    theirs_tracked = make.customer(rep=other, name="Theirs Tracked Inc")
    make.touchpoint(theirs_tracked, last_call=today)
    theirs = make.customer(rep=other, name="Elsewhere Inc")
    return {
        "fresh": fresh,
        "yard": make.jobsite(fresh, rep=rep, name="North Yard"),
        "tracked": tracked,
        "dropped": dropped,
        "closed": make.customer(rep=rep, name="Closed Co", active=False),
        "theirs": theirs,
        # Rita may open Otto's customer through her jobsite, but it is not hers to schedule.
        "borrowed": make.jobsite(theirs, rep=rep, name="Borrowed Yard"),
        "theirs_tracked": theirs_tracked,
        "orphan": make.customer(name="Orphan Co"),
    }


LISTED = ("fresh", "yard", "dropped", "borrowed")
HIDDEN = ("tracked", "closed", "theirs", "theirs_tracked", "orphan")


def page_text(page):
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", page)).split())


def section(page, section_id):
    found = re.search(rf'<section id="{section_id}".*?</section>', page, re.S)
    assert found, f"no section {section_id}"
    return found.group(0)


def unassigned_row(page, account):
    found = re.search(
        rf'<article class="unassigned" id="unassigned-{account.id}">.*?</article>', page, re.S
    )
    assert found, f"{account.name} is not listed as unassigned"
    return found.group(0)


# The dashboard


def test_dashboard_touchpoint_widget_shows_only_the_reps_own(client, auth, rep, accounts):
    auth.login(rep)

    widget = page_text(section(client.get("/").text, "touchpoint-widget"))

    assert "Tracked Co" in widget
    assert "Theirs Tracked Inc" not in widget


@pytest.mark.parametrize("url", ["/", "/unassigned"])
def test_unassigned_lists_reps_accounts_without_active_touchpoint(client, auth, rep, accounts, url):
    auth.login(rep)

    response = client.get(url)

    assert response.status_code == 200
    for name in LISTED:
        unassigned_row(response.text, accounts[name])
    assert "Jobsite of Fresh Co" in page_text(unassigned_row(response.text, accounts["yard"]))
    for name in HIDDEN:
        assert f'id="unassigned-{accounts[name].id}"' not in response.text, name
    widget = page_text(section(response.text, "unassigned-widget"))
    for hidden in ("Tracked Co", "Closed Co", "Orphan Co"):
        assert hidden not in widget


@pytest.mark.parametrize(("name", "kind"), [("fresh", "customers"), ("yard", "jobsites")])
def test_set_touchpoint_links_to_the_add_form(client, auth, rep, accounts, name, kind):
    auth.login(rep)
    account = accounts[name]

    row = unassigned_row(client.get("/").text, account)

    url = f"/{kind}/{account.id}/touchpoints/new"
    assert f'href="{url}"' in row
    assert "Set touchpoint" in page_text(row)
    assert client.get(url).status_code == 200


def test_manager_sees_every_reps_unassigned_accounts_with_the_rep(client, auth, make, accounts):
    auth.login(make.manager())

    page = client.get("/unassigned").text

    assert "Rita Rep" in page_text(unassigned_row(page, accounts["fresh"]))
    assert "Otto Other" in page_text(unassigned_row(page, accounts["theirs"]))
    for name in ("tracked", "closed", "theirs_tracked", "orphan"):
        assert f'id="unassigned-{accounts[name].id}"' not in page, name


# Paging


@pytest.fixture
def five_unassigned(app, make, rep, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    for n in range(1, 6):
        make.customer(rep=rep, name=f"Paged {n}")


def test_unassigned_first_page_offers_show_more(client, auth, rep, five_unassigned):
    auth.login(rep)

    page = client.get("/unassigned").text

    text = page_text(page)
    assert all(f"Paged {n}" in text for n in (1, 2, 3))
    assert "Paged 4" not in text and "Paged 5" not in text
    assert "Show more" in text
    assert 'href="/unassigned?page=2"' in page


def test_unassigned_next_page_by_htmx_is_only_the_next_rows(client, auth, rep, five_unassigned):
    auth.login(rep)

    response = client.get("/unassigned?page=2", headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    text = page_text(response.text)
    assert "Paged 4" in text and "Paged 5" in text
    assert not any(f"Paged {n}" in text for n in (1, 2, 3))
    assert "Show more" not in text


# Bad requests and unknown pages


@pytest.mark.parametrize(
    "url",
    [
        "/unassigned?page=0",
        "/unassigned?page=abc",
        "/touchpoints?state=nope",
        "/touchpoints?page=-1",
    ],
)
def test_bad_query_parameter_is_a_400_page(client, auth, rep, url):
    auth.login(rep)

    response = client.get(url)

    assert response.status_code == 400
    assert 'class="error-page"' in response.text
    text = page_text(response.text)
    assert "Bad Request" in text and "must be" in text
    assert "Traceback" not in text


@pytest.mark.parametrize("url", ["/no-such-page", "/customers/abc", "/touchpoints/99999"])
def test_unknown_url_is_a_404_page(client, auth, rep, url):
    auth.login(rep)

    response = client.get(url)

    assert response.status_code == 404
    assert "<html" in response.text and 'class="error-page"' in response.text
    assert "Not found" in page_text(response.text)
