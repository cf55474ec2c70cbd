"""Search boxes: what a user typed, found anywhere in any of some columns, taken literally."""

from sqlalchemy import or_


def contains(text, *columns):
    """A condition true where any of `columns` contains `text`, ignoring case.

    % and _ typed in a search box mean themselves, not SQL wildcards.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.ilike(f"%{escaped}%", escape="\\") for column in columns))
