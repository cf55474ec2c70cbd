"""Import and export (managers): upload a CSV, check its preview, confirm; download exports.
The same from the command line: `flask import FILE` and `flask export FILE`."""

import sys
from pathlib import Path

import click
from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from flask import stream_with_context as keep_context
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm.exc import StaleDataError

from tpweb.domain import csvio
from tpweb.extensions import db
from tpweb.web.access import manager_required
from tpweb.web.pages import render, user_today
from tpweb.web.security import takes_files
from tpweb.web.writes import write

# No command group: `flask import` and `flask export`, beside the app's other commands.
bp = Blueprint("imports", __name__, cli_group=None)

PAGE = "imports/index.html"
PREVIEW = "imports/preview.html"
# How long a preview may wait for its confirmation before the file must be uploaded again.
MAX_AGE = 3600
# A preview lists this many bad rows; the rest are counted (the CLI lists them all).
SHOWN_ERRORS = 500


class UploadForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[
            FileRequired("Choose a CSV file to import."),
            FileAllowed(["csv"], "Choose a file ending in .csv (save a spreadsheet as CSV UTF-8)."),
        ],
    )


def _signer():
    # The preview carries the file to the confirmation, signed: nothing is stored in between.
    return URLSafeTimedSerializer(current_app.secret_key, salt="tpweb.web.imports")


def _page(form, status=200):
    return render(
        PAGE,
        "content",
        status,
        form=form,
        exports=csvio.EXPORTS,
        fields=csvio.FIELDS,
        kinds=csvio.KINDS,
        file_kinds=csvio.FILE_KINDS.values(),
        required=csvio.REQUIRED,
    )


@bp.get("/imports")
@manager_required
def index():
    """Upload a file to import, or download an export."""
    return _page(UploadForm())


@bp.post("/imports")
@takes_files
@manager_required
@write
def preview():
    """What the uploaded file would create and update, and each bad row; nothing saved yet."""
    form = UploadForm()
    if not form.validate():
        return _page(form, 422)
    upload = form.file.data
    data = upload.read()
    try:
        sheet = csvio.read(data)
    except csvio.FileError as error:
        reason = str(error)
        form.file.errors.append(f"{reason[:1].upper()}{reason[1:]}.")
        return _page(form, 422)
    plan = csvio.plan(db.session, sheet)
    payload = _signer().dumps({"name": upload.filename, "csv": data.decode("utf-8-sig")})
    return _report(plan, upload.filename, payload=payload)


@bp.post("/imports/confirm")
@manager_required
@write
def confirm():
    """Import the previewed file: checked again against the database as it is now."""
    try:
        upload = _signer().loads(request.form.get("payload", ""), max_age=MAX_AGE)
    except SignatureExpired:
        form = UploadForm(formdata=None)
        form.file.errors = ["That preview is more than an hour old: upload the file again."]
        return _page(form, 422)
    except BadSignature:
        abort(400, "The preview did not come back intact: upload the file again.")
    plan = csvio.plan(db.session, csvio.read(upload["csv"].encode()))
    # A touchpoint changed meanwhile (StaleDataError): `write` plans and runs it again, or 409.
    csvio.apply(db.session, plan, user_id=current_user.id)
    return _report(plan, upload["name"], done=True)


@bp.get("/imports/confirm")
@manager_required
def after_confirm():
    """Back to the start: a reloaded result page (its URL is in the history) has nothing to show."""
    return redirect(url_for(".index"), 303)


def _report(plan, name, payload=None, done=False):
    return render(
        PREVIEW,
        "content",
        plan=plan,
        name=name,
        payload=payload,
        done=done,
        shown=plan.errors[:SHOWN_ERRORS],
    )


@bp.get("/exports/<what>.csv")
@manager_required
def export(what):
    """Download an export, streamed as it is read from the database."""
    if what not in csvio.EXPORTS:
        abort(404)
    filename = f"tpweb-{what}-{user_today().isoformat()}.csv"

    def body():
        # A byte order mark, so a spreadsheet opens the file as UTF-8; the import skips it.
        yield "\ufeff"
        yield from csvio.export_lines(db.session, what)

    return Response(
        keep_context(body()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/exports/<what>.csv")
@manager_required
@write
def prepare_export(what):
    """Give each record an external id, so the export can be imported back, then download it."""
    if what not in csvio.EXPORTS:
        abort(404)
    csvio.assign_external_ids(db.session)
    return redirect(url_for(".export", what=what), 303)


@bp.cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; save nothing.")
def import_command(path, dry_run):
    """Import customers, jobsites, contacts and touchpoints from a CSV file, or call logs or
    touchpoint records from a file in the form of their export.

    Saves every good row and lists each bad one; exits with 1 if any row was bad.
    """
    try:
        sheet = csvio.read(path.read_bytes())
    except csvio.FileError as error:
        raise click.ClickException(f"{path}: {error}") from None
    bar = {"file": sys.stderr, "show_pos": True}
    with click.progressbar(length=len(sheet.records), label="Checking", **bar) as progress:
        plan = csvio.plan(db.session, sheet, progress.update)
    if not dry_run:
        with click.progressbar(length=plan.changes, label="Saving  ", **bar) as progress:
            try:
                csvio.apply(db.session, plan, progress.update)
            except StaleDataError as error:
                raise click.ClickException(f"{error}; nothing was saved") from None
        db.session.commit()
    for line in csvio.report_lines(plan, done=not dry_run):
        click.echo(line)
    if plan.errors:
        sys.exit(1)


@bp.cli.command("export")
@click.option(
    "--kind",
    "what",
    type=click.Choice(list(csvio.EXPORTS)),
    default="accounts",
    show_default=True,
    help="accounts: customers, jobsites, contacts and touchpoints; each imports back.",
)
@click.argument("target", type=click.File("wb"))
def export_command(what, target):
    """Export to a CSV file (- for standard output)."""
    # Every record gets an external id first, so the file can be imported back.
    csvio.assign_external_ids(db.session)
    db.session.commit()
    for chunk in csvio.export_lines(db.session, what):
        target.write(chunk.encode())
