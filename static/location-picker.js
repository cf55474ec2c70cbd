// The small map on an account's form: tap it to set the latitude and longitude fields.
// Shown only when map tiles are configured; without them there is nothing to aim at.
(function () {
  "use strict";

  function loadLeaflet(box, then) {
    if (window.L) return then();
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = box.dataset.leafletCss;
    document.head.append(css);
    const script = document.createElement("script");
    script.src = box.dataset.leafletJs;
    script.onload = then;
    document.head.append(script);
  }

  function picker(box) {
    const form = box.closest("form");
    const lat = form.querySelector("[name=latitude]");
    const lon = form.querySelector("[name=longitude]");
    const known = lat.value !== "" && lon.value !== "";
    const start = known ? [Number(lat.value), Number(lon.value)] : [39.8, -98.6];
    box.hidden = false;
    L.Icon.Default.imagePath = box.dataset.images;
    const map = L.map(box).setView(start, known ? 15 : 4);
    L.tileLayer(box.dataset.tiles, {
      maxZoom: 19,
      attribution: box.dataset.attribution,
    }).addTo(map);
    let pin = known ? L.marker(start).addTo(map) : null;
    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(6);
      lon.value = event.latlng.lng.toFixed(6);
      if (pin) pin.setLatLng(event.latlng);
      else pin = L.marker(event.latlng).addTo(map);
    });
  }

  function init(root) {
    for (const box of root.querySelectorAll(".location-map[data-tiles]:not([data-ready])")) {
      if (!box.dataset.tiles) continue;
      box.dataset.ready = "1";
      loadLeaflet(box, function () { picker(box); });
    }
  }

  init(document);
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
