/* Inside the plan's map frame: numbered pins in route order and the line between them, from the
   JSON block the server writes (tpweb/web/plan/frame.py). Names are user text: they reach the
   page only through textContent. */
(function () {
  "use strict";

  var map = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function numbered(stop) {
    var pin = el("div", "tp-plan-pin" + (stop.done ? " tp-plan-pin--done" : ""), stop.done ? "✓" : String(stop.n));
    pin.setAttribute("data-stop-number", String(stop.n));
    return L.divIcon({ className: "tp-plan-icon", html: pin, iconSize: [44, 44], iconAnchor: [22, 22] });
  }

  function start() {
    return L.divIcon({ className: "tp-plan-icon", html: el("div", "tp-plan-start", "S"), iconSize: [26, 26], iconAnchor: [13, 13] });
  }

  // With no tiles, faint lines every 256 px that move with the map.
  var Grid = L.GridLayer.extend({
    createTile: function () { return el("div", "tp-grid-tile"); }
  });

  L.Map.addInitHook(function () { map = this; });

  document.addEventListener("DOMContentLoaded", function () {
    var rows = JSON.parse(document.getElementById("tp-plan-rows").textContent);
    var config = document.getElementById("tp-plan-config").dataset;
    if (!config.tiles) new Grid({ pane: "tilePane" }).addTo(map);
    var line = [rows.start];
    rows.stops.forEach(function (stop) { line.push([stop.lat, stop.lon]); });
    if (rows.back && rows.stops.length) line.push(rows.start);
    L.polyline(line, { color: "#1565c0", weight: 4, opacity: 0.8, className: "tp-plan-route" }).addTo(map);
    L.marker(rows.start, { icon: start(), title: "Start", keyboard: false }).addTo(map);
    rows.stops.forEach(function (stop) {
      L.marker([stop.lat, stop.lon], { icon: numbered(stop), title: stop.n + ". " + stop.name, riseOnHover: true }).addTo(map);
    });
  });
})();
