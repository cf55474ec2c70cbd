"""Command-line tools: create-user, seed-demo, send-reminders and vapid-keys."""

import sys
from zoneinfo import available_timezones

import click
from flask import current_app
from sqlalchemy import func, select

from tpweb.domain import rules
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import ROLES, User

DEMO_HINT = "admin, manager1, manager2, rep1 … rep8, password tpweb-demo"


@click.command("create-user")
@click.argument("username")
@click.option("--name", help="Full name (default: the username).")
@click.option("--email", default=None, help="Where reminders go; none means no reminders.")
@click.option("--role", type=click.Choice(ROLES), default="rep", show_default=True)
@click.option("--timezone", "zone", default=None, help="IANA time zone, e.g. America/Chicago.")
@click.password_option(help="Asked for when not given.")
def create_user(username, name, email, role, zone, password):
    """Create a user who can sign in."""
    zone = zone or current_app.config["TPWEB_TIMEZONE"]
    if zone not in available_timezones():
        raise click.BadParameter(f"unknown time zone {zone!r}", param_hint="--timezone")
    if db.session.scalar(select(User.id).filter_by(username=username)) is not None:
        raise click.ClickException(f"a user named {username!r} already exists")
    name = (name or username).strip()
    _check_new_user(username, name, email, password)
    user = User(username=username, name=name, email=email or None, role=role, timezone=zone)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {username}.")


def _check_new_user(username, name, email, password):
    """The rules the admin's New user form keeps (tpweb.domain.rules), each refused as it says."""
    problems = (
        ("USERNAME", not rules.USERNAME.fullmatch(username),
         "use 2 to 80 of a-z, 0-9, dot, dash and underscore"),
        ("--name", not name or len(name) > rules.LENGTHS["user_name"],
         f"give a name of 1 to {rules.LENGTHS['user_name']} characters"),
        ("--email", email and (len(email) > rules.LENGTHS["email"]
                               or not rules.EMAIL.fullmatch(email)),
         "give an email address like name@example.com"),
        ("--password", not rules.PASSWORD_MIN <= len(password) <= rules.LENGTHS["password"],
         f"use {rules.PASSWORD_MIN} to {rules.LENGTHS['password']} characters"),
    )  # fmt: skip
    for hint, refused, message in problems:
        if refused:
            raise click.BadParameter(message, param_hint=hint)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_demo(if_empty):
    """Load deterministic demo data (an admin, 2 managers, 8 reps and their accounts)."""
    from tpweb.domain.demo import seed_demo as load

    if not (current_app.config.get("DEVELOPMENT") or current_app.testing):
        # Its logins share one published password: a way in for anyone, outside a laptop.
        raise click.ClickException(
            "seed-demo loads logins with a published password; it runs only with "
            "TPWEB_ENV=development"
        )
    if db.session.scalar(select(func.count(User.id))):
        if if_empty:
            click.echo("The database already has users; demo data not loaded again.")
            click.echo(f"Demo logins, if this is the demo database: {DEMO_HINT}")
            return
        raise click.ClickException("the database already has users; seed-demo wants it empty")
    logins = load(today_in(current_app.config["TPWEB_TIMEZONE"]))
    click.echo("Demo data loaded. Sign in with:")
    for username, password, role in logins:
        click.echo(f"  {username:<10} {password:<12} {role}")


class _ProgressBar:
    """A progress bar on stderr, for runs long enough to want one."""

    def __init__(self, threshold=50):
        self.threshold = threshold
        self.bar = None

    def __call__(self, n, total):
        if self.bar is None and total >= self.threshold:
            self.bar = click.progressbar(length=total, label="Sending reminders", file=sys.stderr)
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.render_finish()


@click.command("send-reminders")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Sweep this local date for everyone now (default: what is due at this hour).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Send from this many processes at once, each over its own SMTP connection.",
)
def send_reminders(day, dry_run, workers):
    """Send the reminder emails that are due, in this process (or --workers): no Redis needed."""
    from tpweb.jobs.sweep import run_sweep

    bar = _ProgressBar()
    report = run_sweep(
        day=day.date() if day else None, dry_run=dry_run, progress=bar, workers=workers
    )
    bar.close()
    verb = "Would send" if dry_run else "Sent"
    for sent in report.sent:
        items = f" ({sent.items} items)" if sent.items > 1 else ""
        to = sent.to if sent.channel == "email" else f"the devices of {sent.to} (push)"
        click.echo(f"{verb} to {to}: {sent.subject}{items}")
    emails, pushes = report.messages["email"], report.messages["push"]
    if emails + pushes > len(report.sent):
        click.echo(f"… and {emails + pushes - len(report.sent)} more.")
    pushed = f" and {pushes} pushes" if pushes else ""
    click.echo(
        f"{verb} {emails} emails{pushed} for {report.items_sent} items; "
        f"{report.skipped} no longer due; {report.failed} failed (tried again next run)."
    )


@click.command("vapid-keys")
def vapid_keys():
    """Print a new VAPID key pair for Web Push reminders, as configuration lines."""
    from tpweb.jobs.push import new_vapid_keys

    public, private = new_vapid_keys()
    click.echo(f"VAPID_PUBLIC_KEY={public}")
    click.echo(f"VAPID_PRIVATE_KEY={private}")
    click.echo("VAPID_SUBJECT=mailto:you@your-company.example  # a real address of yours")


@click.command("report")
@click.option("--weeks", type=click.Choice(["4", "12", "52"]), default="12", show_default=True)
@click.option("--manager", "manager_id", type=int, help="Only this manager's reps (a user id).")
@click.option("--timezone", "zone", default=None, help="Whose weeks (default: TPWEB_TIMEZONE).")
def report(weeks, manager_id, zone):
    """Team health: the numbers of /reports/team, one line per rep and the team's."""
    from types import SimpleNamespace

    from tpweb.domain import health

    zone = zone or current_app.config["TPWEB_TIMEZONE"]
    if zone not in available_timezones():
        raise click.BadParameter(f"unknown time zone {zone!r}", param_hint="--timezone")
    viewer = SimpleNamespace(id=None, is_manager=True, timezone=zone)
    found = health.team_health(viewer, int(weeks), manager_id=manager_id)
    click.echo(f"Team health, {found.period.start} to {found.period.today} ({weeks} weeks)")
    click.echo("\t".join(health.COLUMNS))
    for row in health.table(found):
        click.echo("\t".join("" if v is None else str(v) for v in row))
    if found.no_rep is not None:
        click.echo(f"Active accounts with no rep: {found.no_rep}")
