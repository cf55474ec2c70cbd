// The Location fieldset of an account's form: a small map to tap (when tiles are configured) with a
// pin at the location, a Clear location button, and Find from address's answer shown even when the
// geocoder is down. Loaded with each form; htmx may run it again on the next boosted page.
(function () {
  "use strict";
  if (window.tpLocationPicker) return window.tpLocationPicker(document);

  var leaflet = null; // one load of Leaflet, shared by every map the page shows

  function loadLeaflet(box) {
    if (window.L) return Promise.resolve();
    if (!leaflet) {
      leaflet = new Promise(function (resolve, reject) {
        var css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = box.dataset.leafletCss;
        document.head.append(css);
        var script = document.createElement("script");
        script.src = box.dataset.leafletJs;
        script.onload = resolve;
        script.onerror = function () { leaflet = null; reject(new Error("Leaflet did not load")); };
        document.head.append(script);
      });
    }
    return leaflet;
  }

  // [lat, lon] from the fields' text, or null unless both are numbers in range.
  function typed(lat, lon) {
    if (lat.value.trim() === "" || lon.value.trim() === "") return null;
    var y = Number(lat.value), x = Number(lon.value);
    return y >= -90 && y <= 90 && x >= -180 && x <= 180 ? [y, x] : null;
  }

  function setUp(fieldset) {
    var lat = fieldset.querySelector("[name=latitude]");
    var lon = fieldset.querySelector("[name=longitude]");
    var clear = fieldset.querySelector("[data-clear-location]");
    var box = fieldset.querySelector(".location-map[data-tiles]");
    var map = null;
    var pin = null;

    function showPin(point) {
      if (!map) return;
      if (!point) {
        if (pin) pin.remove();
        pin = null;
      } else if (pin) {
        pin.setLatLng(point);
      } else {
        pin = L.marker(point, { keyboard: false, interactive: false }).addTo(map);
        pin.getElement().dataset.locationPin = "";
      }
    }

    function showClear() {
      if (clear) clear.hidden = lat.value === "" && lon.value === "";
    }

    function typedIn() {
      var point = typed(lat, lon);
      showPin(point);
      if (map && point) map.setView(point, Math.max(map.getZoom(), 13));
      showClear();
    }

    lat.addEventListener("change", typedIn);
    lon.addEventListener("change", typedIn);
    lat.addEventListener("input", showClear);
    lon.addEventListener("input", showClear);
    if (clear) {
      clear.addEventListener("click", function () {
        lat.value = "";
        lon.value = "";
        showPin(null);
        showClear();
        lat.focus();
      });
    }
    showClear();
    if (!box || !box.dataset.tiles) return;

    loadLeaflet(box).then(function () {
      var known = typed(lat, lon);
      box.hidden = false;
      L.Icon.Default.imagePath = box.dataset.images;
      map = L.map(box, {
        // One finger scrolls the page past the map, as on any phone page; two pinch and pan it.
        dragging: !L.Browser.mobile,
        scrollWheelZoom: false,
      }).setView(known || [39.8, -98.6], known ? 15 : 3);
      L.tileLayer(box.dataset.tiles, {
        maxZoom: 19,
        attribution: box.dataset.attribution,
        // The page sends no Referer off the app's origin; tile servers want the site's origin.
        referrerPolicy: "strict-origin-when-cross-origin",
      }).addTo(map);
      showPin(known);
      map.on("click", function (event) {
        var point = event.latlng.wrap(); // past the date line, the same place in range
        lat.value = point.lat.toFixed(6);
        lon.value = point.lng.toFixed(6);
        showPin(point);
        showClear();
        // Zoomed far out a tap is only roughly right: come closer around it for a finer one.
        if (map.getZoom() < 10) map.setView(point, map.getZoom() + 4);
      });
    }, function () {
      box.hidden = true; // no map without Leaflet; the fields still take a typed location
    });
  }

  function init(root) {
    var fieldsets = root.matches && root.matches("fieldset.location") ? [root] : [];
    fieldsets = fieldsets.concat(Array.from(root.querySelectorAll("fieldset.location")));
    fieldsets.forEach(function (fieldset) {
      if (fieldset.dataset.ready || !fieldset.querySelector("[name=latitude]")) return;
      fieldset.dataset.ready = "1";
      setUp(fieldset);
    });
  }

  window.tpLocationPicker = init;
  init(document);
  document.addEventListener("htmx:load", function (event) { init(event.target); });
  // Find from address answers 503 with the fieldset saying the geocoder is down: show it, as htmx
  // would otherwise drop a 5xx answer and the manager would see nothing happen.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var from = detail.requestConfig && detail.requestConfig.elt;
    if (from && from.matches("[data-locate]") && detail.xhr.status === 503) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
