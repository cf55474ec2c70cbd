"""Settings' *How long a visit takes* (Plan my day): the rep's visit length for each active call
type, and for an account never called yet. Its view is Settings' (tpweb.web.settings)."""

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired

from tpweb.domain.visit_lengths import lengths_of, save_lengths
from tpweb.web.forms import WholeNumberField, visit_length


def minutes_field(label):
    return WholeNumberField(
        label, validators=[InputRequired("Enter how many minutes a visit takes."), visit_length]
    )


class VisitLengthsForm(FlaskForm):
    other = minutes_field("An account not called yet")

    types = ()  # (call type, its field), set by visit_lengths_form

    def save(self, user):
        save_lengths(user, {kind.id: field.data for kind, field in self.types})
        user.visit_minutes = self.other.data


def visit_lengths_form(user, formdata=None):
    """The form of `user`'s lengths, a field per active call type (`type_<id>`), filled with
    their own length or the type's usual one."""
    lengths = lengths_of(user)

    class Form(VisitLengthsForm):
        pass

    for kind, _ in lengths:
        setattr(Form, f"type_{kind.id}", minutes_field(kind.name))
    data = {f"type_{kind.id}": minutes for kind, minutes in lengths}
    form = Form(formdata=formdata, data={**data, "other": user.visit_minutes})
    form.types = [(kind, form[f"type_{kind.id}"]) for kind, _ in lengths]
    return form
