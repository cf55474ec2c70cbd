"""The libraries vendored under static/vendor/, named once for the pages that load them and for
the offline shell that keeps them; and Raw, markup put as it is in a folium map's document."""

import folium
from branca.element import Element
from flask import current_app

LEAFLET = "vendor/leaflet-1.9.4/"
CLUSTER = "vendor/leaflet.markercluster-1.5.3/"
# A map must have a maximum zoom for the cluster plugin; 19 is as close as tile servers go.
MAX_ZOOM = 19


def add_tiles(fmap):
    """The tile layer TPWEB_TILE_URL names, with its credit, on `fmap`; its URL ("" when off)."""
    tile_url = current_app.config["TPWEB_TILE_URL"]
    if tile_url:
        folium.TileLayer(
            tile_url,
            attr=current_app.config["TPWEB_TILE_ATTRIBUTION"],
            max_zoom=MAX_ZOOM,
            control=False,
            # The page's own policy sends no Referer off the app's origin; tile servers (and
            # OpenStreetMap's usage policy) want one naming the site, so tiles send the origin.
            referrerPolicy="strict-origin-when-cross-origin",
        ).add_to(fmap)
    return tile_url


def document(fmap):
    """The whole HTML document of `fmap`, in English as the app's pages are (branca's <html> names
    no language, and a screen reader would guess one)."""
    return fmap.get_root().render().replace("<html>", '<html lang="en">', 1)


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
