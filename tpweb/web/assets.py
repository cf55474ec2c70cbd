"""The libraries vendored under static/vendor/, named once for the pages that load them and for
the offline shell that keeps them; and Raw, markup put as it is in a folium map's document."""

from branca.element import Element

LEAFLET = "vendor/leaflet-1.9.4/"
CLUSTER = "vendor/leaflet.markercluster-1.5.3/"


class Raw(Element):
    """Markup put in the document as it is.

    branca compiles the text of every Element, and every script a folium object renders, as a
    Jinja template: marker rows inside folium's script were evaluated on the server (a comment
    "{{ 7*7 }}" showed 49, and Jinja's globals reach os) and lexing them took most of the frame's
    time (13 ms of 2,000 rows). Rows go in a JSON block of this class instead.
    """

    def __init__(self, markup):
        super().__init__()
        self.markup = markup

    def render(self, **kwargs):
        return self.markup
