"""The libraries vendored under static/vendor/, named once for the pages that load them and for
the offline shell that keeps them (a map's document itself: tpweb.web.map_document)."""

LEAFLET = "vendor/leaflet-1.9.4/"
CLUSTER = "vendor/leaflet.markercluster-1.5.3/"
# A map must have a maximum zoom for the cluster plugin; 19 is as close as tile servers go.
MAX_ZOOM = 19
