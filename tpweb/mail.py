"""Reminder emails: the seed's sentences, a plain-text and an HTML part with absolute links, sent
through Flask-Mailman (SMTP in production; the console or a folder by default)."""

import smtplib
from dataclasses import dataclass
from email.utils import formataddr
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_mailman import EmailMultiAlternatives

from .extensions import mail
from .reminders import TASK


def long_date(day):
    return f"{day:%A, %B} {day.day}, {day.year}"


def sentence(reminder):
    """The seed's words: "A task titled … for contact … assigned to you is due today." """
    if reminder.kind == TASK:
        who = f"A task titled {reminder.title} for contact {reminder.contact} assigned to you"
    elif reminder.account_kind == "jobsite":
        who = (
            f"A touchpoint for jobsite {reminder.account} of customer {reminder.customer}"
            " assigned to you"
        )
    else:
        who = f"A touchpoint for customer {reminder.account} assigned to you"
    if reminder.overdue:
        return f"{who} was due on {long_date(reminder.due_date)} and is overdue."
    return f"{who} is due today."


def public_url(endpoint, **values):
    """An absolute link to `endpoint` under TPWEB_PUBLIC_URL: emails live outside any request."""
    base = urlsplit(current_app.config["TPWEB_PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


@dataclass(frozen=True)
class Line:
    """One reminder as an email shows it."""

    sentence: str
    due: str
    overdue: bool
    where: list  # (label, name) pairs: the contact and customer, or the jobsite and customer
    link: str


def line(reminder):
    if reminder.kind == TASK:
        where = [("Contact", reminder.contact), ("Customer", reminder.account)]
        link = public_url("contacts.show", contact_id=reminder.contact_id)
    else:
        where = [(reminder.account_kind.title(), reminder.account)]
        if reminder.customer:
            where.append(("Customer", reminder.customer))
        link = public_url("touchpoints.show", touchpoint_id=reminder.item_id)
    due = long_date(reminder.due_date)
    return Line(sentence(reminder), due, reminder.overdue, where, link)


def subject(reminders, today):
    if len(reminders) == 1:
        reminder = reminders[0]
        label = "Overdue" if reminder.overdue else "Due today"
        what = "" if reminder.kind == TASK else "Touchpoint: "
        # A header is one line, whatever an import put in a description.
        return f"{label}: {what}{' '.join(reminder.title.split())}"[:200]
    overdue = sum(r.overdue for r in reminders)
    return (
        f"Your reminders for {long_date(today)}: "
        f"{len(reminders) - overdue} due today, {overdue} overdue"
    )


class Mailer:
    """Composes reminder emails and sends them over one connection for a whole sweep."""

    def __init__(self, connection=None):
        self.connection = connection or mail.get_connection()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.connection.close()

    def compose(self, user, reminders, today, key):
        """One email to `user` listing `reminders`; `key` makes its Message-ID."""
        context = {
            "user": user,
            "lines": [line(r) for r in reminders],
            "heading": subject(reminders, today),
            "settings_url": public_url("settings.index"),
        }
        host = urlsplit(current_app.config["TPWEB_PUBLIC_URL"]).hostname or "tpweb"
        message = EmailMultiAlternatives(
            subject=subject(reminders, today),
            body=render_template("email/reminder.txt", **context),
            to=[formataddr((user.name, user.email))],
            headers={"Message-ID": f"<{key}@{host}>"},
            connection=self.connection,
        )
        message.attach_alternative(render_template("email/reminder.html", **context), "text/html")
        return message

    def send(self, message):
        try:
            # Opened here and kept: one connection for the sweep, not one per message.
            self.connection.open()
            sent = self.connection.send_messages([message])
        except (smtplib.SMTPException, OSError):
            # A broken connection is opened afresh for the next message.
            self.connection.close()
            raise
        if not sent:
            raise RuntimeError(f"the mail backend did not send {message.subject!r}")
