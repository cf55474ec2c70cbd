/* The touchpoint widget's bit of plain JavaScript: Near me, and the Map view's popups opening the
   same htmx Complete and Reschedule forms as the list, in the panel beside the map, with the pin
   recoloured once a form is saved. The map itself is static/map-frame.js, in its own frame. */
(function () {
  "use strict";

  function frameOf(widget) {
    return widget && widget.querySelector("[data-map-frame]");
  }

  function post(frame, message) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(message, location.origin);
  }

  // A URL from one of the app's templates, whose last "/0" stands for the id.
  function url(template, id) {
    return template.replace(/\/0(?=\/|$)/, "/" + id);
  }

  function openInPanel(panel, action, id) {
    panel.dataset.touchpoint = id;
    htmx.ajax("GET", url(panel.dataset[action + "Url"], id), { target: panel, swap: "innerHTML" })
      .then(function () { panel.scrollIntoView({ behavior: "smooth", block: "start" }); });
  }

  // Once a form in the panel is saved, or a change waiting on the phone is sent (offline/pins.js),
  // the pin takes the touchpoint's new colour and dates.
  function refreshMarker(panel, id) {
    if (!id) return;
    fetch(url(panel.dataset.markerUrl, id), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (row) {
        post(frameOf(panel.closest("#touchpoint-widget")), { type: "tpweb:update", id: Number(id), row: row });
      })
      .catch(function () { /* The pin keeps its colour until the map is next loaded. */ });
  }

  function showCounts(widget, counts) {
    Object.keys(counts).forEach(function (state) {
      var cell = widget.querySelector('[data-map-count="' + state + '"]');
      if (cell) cell.textContent = counts[state];
    });
  }

  function nearMe(button) {
    var widget = button.closest("#touchpoint-widget");
    var label = button.textContent;
    button.setAttribute("aria-busy", "true");
    navigator.geolocation.getCurrentPosition(function (position) {
      button.removeAttribute("aria-busy");
      var lat = position.coords.latitude.toFixed(5);
      var lon = position.coords.longitude.toFixed(5);
      var frame = frameOf(widget);
      if (frame) {
        post(frame, { type: "tpweb:here", lat: Number(lat), lon: Number(lon) });
        return;
      }
      var target = new URL(button.dataset.nearMe, location.href);
      target.searchParams.set("lat", lat);
      target.searchParams.set("lon", lon);
      htmx.ajax("GET", target.pathname + target.search, { target: widget, swap: "outerHTML" });
    }, function () {
      button.removeAttribute("aria-busy");
      button.textContent = "Location unavailable";
      setTimeout(function () { button.textContent = label; }, 4000);
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-near-me]");
    if (button) return nearMe(button);
    var open = event.target.closest("[data-map-open]");
    var panel = open && open.closest("#touchpoint-widget") &&
      open.closest("#touchpoint-widget").querySelector("[data-map-panel]");
    if (panel) {
      event.preventDefault();
      openInPanel(panel, open.dataset.mapOpen, open.dataset.touchpoint);
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    var panel = detail.elt.closest && detail.elt.closest("[data-map-panel]");
    if (panel && detail.successful && detail.requestConfig.verb === "post") refreshMarker(panel, panel.dataset.touchpoint);
  });

  document.addEventListener("tpweb:pin-sent", function (event) {
    refreshMarker(event.target, String(event.detail.id));
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== location.origin) return;
    var frame = Array.prototype.find.call(document.querySelectorAll("[data-map-frame]"), function (f) {
      return f.contentWindow === event.source;
    });
    var widget = frame && frame.closest("#touchpoint-widget");
    if (!widget) return;
    var data = event.data || {};
    if (data.type === "tpweb:open") openInPanel(widget.querySelector("[data-map-panel]"), data.action, data.id);
    if (data.type === "tpweb:counts" || data.type === "tpweb:ready") showCounts(widget, data.counts);
  });

  // Near me shows only where the browser can ask for the phone's position.
  htmx.onLoad(function (root) {
    if (!("geolocation" in navigator)) return;
    root.querySelectorAll("[data-near-me]").forEach(function (button) { button.hidden = false; });
  });
})();
