"""A folium map's document: its tiles, its HTML, markup put in it as it is, and the cluster of
the touchpoints map's pins.

Imported by the map frames' views when they draw one, not when the app starts: folium brings
branca, numpy and pandas (74 MB a process), which the worker and the other pages never use.
"""

import folium
from branca.element import Element
from flask import current_app
from folium.plugins import FastMarkerCluster
from folium.template import Template

from tpweb.web.assets import MAX_ZOOM


def new_map(title, icon, **options):
    """A folium map with no tiles yet, its document titled `title` and with the `icon` link."""
    fmap = folium.Map(tiles=None, control_scale=True, maxZoom=MAX_ZOOM, **options)
    fmap.get_root().title = title
    # The page's own icon, or a browser opening the frame alone asks for /favicon.ico (a 404).
    fmap.get_root().header.add_child(Raw(f'<link rel="icon" href="{icon}">'))
    return fmap


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


class RowsMarkerCluster(FastMarkerCluster):
    """folium's FastMarkerCluster (0.20), reading its rows from the MARKER_ROWS block."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                {{ this.callback }}

                var data = JSON.parse(document.getElementById("tp-marker-rows").textContent);
                var cluster = L.markerClusterGroup({{ this.options|tojavascript }});
                {%- if this.icon_create_function is not none %}
                cluster.options.iconCreateFunction =
                    {{ this.icon_create_function.strip() }};
                {%- endif %}

                for (var i = 0; i < data.length; i++) {
                    var row = data[i];
                    var marker = callback(row);
                    marker.addTo(cluster);
                }

                cluster.addTo({{ this._parent.get_name() }});
                return cluster;
            })();
        {% endmacro %}"""
    )
