"""The app as production serves it: gunicorn -c python:tpweb.gunicorn_conf tpweb.wsgi:app.

Unlike `create_app()` alone (tests, `flask db upgrade`), it refuses to serve on a schema behind
its code, with one line saying so and exit status 3, which stops gunicorn.
"""

from tpweb import create_app
from tpweb.extensions import db
from tpweb.schema import require_current

app = create_app()
with app.app_context():
    require_current(db.engine)
    db.engine.dispose()  # connections are made in each worker, after the fork
