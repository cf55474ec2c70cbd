"""The libraries vendored under static/vendor/, named once for the pages that load them and for
the offline shell that keeps them."""

LEAFLET = "vendor/leaflet-1.9.4/"
CLUSTER = "vendor/leaflet.markercluster-1.5.3/"
