"""Reminder emails: the seed's sentences, a plain-text and an HTML part with absolute links, sent
through Flask-Mailman's connection (SMTP in production; the console or a folder by default)."""

import binascii
import functools
import smtplib
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import urlsplit

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from flask_mailman.backends.smtp import EmailBackend as SmtpBackend

from tpweb import config
from tpweb.domain import one_tap
from tpweb.domain.reminders import TASK
from tpweb.extensions import mail

# RFC 5322: no line longer; a part with a longer one goes quoted-printable (as Flask-Mailman).
LINE_LIMIT = 998


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


def public_urls():
    """`url(endpoint, **values)`: absolute links under TPWEB_PUBLIC_URL, as emails live outside
    any request (config.public_urls for this app). Bound once per Mailer, not per link."""
    return config.public_urls(current_app)


class ActionLinks:
    """`links(user_id, reminder, action)`: the absolute link of a reminder's one-tap action
    (domain.one_tap), signed for that user, item and action; for emails and notifications."""

    def __init__(self, url=None):
        # The link up to its token, built once: a token is URL-safe as it is (letters, digits,
        # ".", "-", "_"), and a sweep makes three links per reminder.
        head = (url or public_urls())("reminders.action", token="-")
        self.prefix = head.removesuffix("-")
        self.secret_key = current_app.config["SECRET_KEY"]

    def __call__(self, user_id, reminder, action):
        token = one_tap.sign(
            self.secret_key,
            one_tap.Action(user_id, reminder.kind, reminder.item_id, reminder.due_date, action),
        )
        return self.prefix + token


@dataclass(frozen=True)
class Line:
    """One reminder as an email shows it."""

    sentence: str
    due: str
    overdue: bool
    where: list  # (label, name) pairs: the contact and customer, or the jobsite and customer
    link: str
    actions: tuple = ()  # (label, link) pairs: Done, Snooze to tomorrow, Next week


def line(reminder, url, act=None):
    """A reminder's line in an email; `url` builds its link (a public_urls()), `act(reminder,
    action)` its one-tap actions' (none without)."""
    if reminder.kind == TASK:
        where = [("Contact", reminder.contact), ("Customer", reminder.account)]
        link = url("contacts.show", contact_id=reminder.contact_id)
    else:
        where = [(reminder.account_kind.title(), reminder.account)]
        if reminder.customer:
            where.append(("Customer", reminder.customer))
        link = url("touchpoints.show", touchpoint_id=reminder.item_id)
    due = long_date(reminder.due_date)
    actions = ()
    if act is not None:
        actions = tuple((label, act(reminder, a)) for a, label in one_tap.ACTIONS.items())
    return Line(sentence(reminder), due, reminder.overdue, where, link, actions)


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


def _renderer(template):
    """`render(context)`, as `template.render(context)` with the template's globals (Flask's,
    about twenty) merged into one dict here, once: Template.render walks their ChainMap on every
    call, which was half of a reminder's rendering (docs/benchmarks.md, B3)."""
    names = dict(template.globals)
    environment = template.environment

    def render(context):
        try:
            ctx = template.new_context({**names, **context}, shared=True)
            return environment.concat(template.root_render_func(ctx))
        except Exception:
            return environment.handle_exception()

    return render


class Mailer:
    """Composes reminder emails and sends them over one connection for a whole sweep.

    What is the same for every email (the templates, the links' base, the sender) is looked up
    once here, not per message: a sweep sends tens of thousands (docs/benchmarks.md, B3).
    """

    def __init__(self, connection=None):
        self.connection = connection or mail.get_connection()
        env = current_app.jinja_env
        # Flask's environment: the .html template is autoescaped, the .txt one is not.
        self.text = _renderer(env.get_template("email/reminder.txt"))
        self.html = _renderer(env.get_template("email/reminder.html"))
        self.url = public_urls()
        self.settings_url = self.url("settings.index")
        self.actions = ActionLinks(self.url)
        self.host = urlsplit(current_app.config["TPWEB_PUBLIC_URL"]).hostname or "tpweb"
        self.wire = Wire(current_app.extensions["mailman"].default_sender)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.connection.close()

    def compose(self, user, reminders, today, key):
        """One email to `user` listing `reminders`; `key` makes its Message-ID."""
        heading = subject(reminders, today)
        act = functools.partial(self.actions, user.id)
        context = {
            "user": user,
            "lines": [line(r, self.url, act) for r in reminders],
            "heading": heading,
            "settings_url": self.settings_url,
        }
        message = EmailMultiAlternatives(
            subject=heading,
            body=self.text(context),
            to=[formataddr((user.name, user.email))],
            headers={"Message-ID": f"<{key}@{self.host}>"},
            connection=self.connection,
        )
        message.attach_alternative(self.html(context), "text/html")
        message.envelope_to = user.email
        return message

    def send(self, message):
        try:
            # Opened here and kept: one connection for the sweep, not one per message.
            self.connection.open()
            raw = self.wire.bytes(message) if isinstance(self.connection, SmtpBackend) else None
            if raw is not None:
                # The bytes straight to the SMTP session Flask-Mailman opened (its own send would
                # build and serialise a MIME tree per message); one recipient: a refusal raises.
                self.connection.connection.sendmail(self.wire.sender, [message.envelope_to], raw)
                sent = 1
            else:
                sent = self.connection.send_messages([message])
        except (smtplib.SMTPException, OSError):
            # A broken connection is opened afresh for the next message.
            self.connection.close()
            raise
        if not sent:
            raise RuntimeError(f"the mail backend did not send {message.subject!r}")


class Wire:
    """A reminder email's bytes as Flask-Mailman's SMTP backend would send them (multipart/
    alternative, text then HTML, UTF-8 in 8bit or quoted-printable), written directly.

    Only for Mailer.compose's messages (one To, no copies, no attachments, the HTML alternative).
    `bytes` answers None for one out of the ordinary (a non-ASCII address, a line break in a
    header): such a message goes the ordinary way, through Flask-Mailman.
    """

    def __init__(self, sender):
        self.from_header = _address_header(sender)
        self.sender = parseaddr(sender)[1]
        self.boundary = f"=_tpweb_{uuid.uuid4().hex}"

    def bytes(self, message):
        to = message.envelope_to
        if self.from_header is None or not _plain(to) or "<" in to or ">" in to:
            return None
        subject, to_header = _text_header(message.subject), _address_header(message.to[0])
        extra = [f"{name}: {value}" for name, value in message.extra_headers.items()]
        if subject is None or to_header is None or not all(map(_plain, extra)):
            return None
        text = _part("plain", message.body)
        html = _part("html", message.alternatives[0][0])
        mark = f"--{self.boundary}"
        if mark.encode() in text or mark.encode() in html:
            return None
        head = [
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"',
            "MIME-Version: 1.0",
            f"Subject: {subject}",
            f"From: {self.from_header}",
            f"To: {to_header}",
            f"Date: {formatdate()}",
            *extra,
        ]
        return b"".join(
            [
                "\r\n".join(head).encode(),
                f"\r\n\r\n{mark}\r\n".encode(),
                text,
                f"\r\n{mark}\r\n".encode(),
                html,
                f"\r\n{mark}--\r\n".encode(),
            ]
        )


def _plain(value):
    return value.isascii() and "\n" not in value and "\r" not in value


def _text_header(value):
    """A header's value on one line: as it is when ASCII, else RFC 2047 words; None if it holds
    a line break (never sent that way)."""
    if "\n" in value or "\r" in value:
        return None
    return value if value.isascii() else Header(value, "utf-8").encode(linesep="\r\n")


@functools.lru_cache(maxsize=4096)  # a sweep writes each user's To once, not per message
def _address_header(value):
    """ "Name <address>", the name in RFC 2047 words when not ASCII; None if out of the ordinary."""
    name, address = parseaddr(value)
    if not address or not _plain(address) or "\n" in name or "\r" in name:
        return None
    return formataddr((name, address), charset="utf-8")


def _part(subtype, body):
    """One text part, headers and body, with CRLF line ends."""
    data = body.replace("\r\n", "\n").replace("\r", "\n").encode()
    if len(data) > LINE_LIMIT and max(map(len, data.split(b"\n"))) > LINE_LIMIT:
        # Quoted-printable shortens the long lines (soft breaks), as Flask-Mailman does.
        encoding, data = "quoted-printable", binascii.b2a_qp(data)
    else:
        encoding = "7bit" if data.isascii() else "8bit"
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode() + data.replace(b"\n", b"\r\n")
