/* Inside the map's frame: pins from the JSON rows folium writes, popups built with textContent,
   and messages to and from the page around the frame (static/map.js).

   A row is [lat, lon, touchpoint id, state, account name, customer name (jobsites), next call,
   last call, comment, account id, sales rep name, phone number (+ and digits), email (encoded)]:
   see tpweb/domain/markers.py. Its strings are user text: they only ever reach the page through
   textContent, never as HTML. */
(function () {
  "use strict";

  var LABELS = { overdue: "Overdue", "due-today": "Due today", upcoming: "Upcoming", later: "Later" };
  var RANK = { overdue: 0, "due-today": 1, upcoming: 2, later: 3, done: 4 };
  var DAY = 86400000;
  var NEAREST = 5;
  var markers = {}; // touchpoint id -> L.Marker
  var map = null;
  var group = null;
  var here = null;
  // Touchpoint id -> { completed, next }: writes waiting on the phone (static/offline/pins.js).
  var waiting = {};

  function config() {
    return document.getElementById("tp-map-config").dataset;
  }

  function fromRow(row) {
    return {
      lat: row[0], lon: row[1], id: row[2], state: row[3], name: row[4], customer: row[5],
      next: row[6], last: row[7], comment: row[8], account: row[9], rep: row[10],
      number: row[11], email: row[12]
    };
  }

  // A URL from one of the app's templates, whose last "/0" stands for the id.
  function url(template, id) {
    return template.replace(/\/0(?=\/|$)/, "/" + id);
  }

  function day(iso) {
    var parts = iso.split("-");
    return new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
  }

  function longDate(iso) {
    return day(iso).toLocaleDateString(undefined, {
      weekday: "short", month: "short", day: "numeric", year: "numeric"
    });
  }

  function daysTo(iso) {
    return Math.round((day(iso) - day(config().today)) / DAY);
  }

  // "Overdue 3 days", "Due today", "Upcoming · in 5 days", as the list's badge says it.
  function dueText(next, state) {
    var days = daysTo(next);
    if (days < 0) return "Overdue " + -days + (days < -1 ? " days" : " day");
    if (days === 0) return "Due today";
    return LABELS[state] + " · in " + days + (days > 1 ? " days" : " day");
  }

  // What a pin shows: while the phone's writes wait, what they will make of it (done once a call
  // is logged; a Reschedule's new date), else the server's state.
  function shownState(tp) {
    var mine = waiting[tp.id];
    if (!mine || (!mine.completed && !mine.next)) return tp.state;
    if (mine.completed) return "done";
    var days = daysTo(mine.next);
    return days < 0 ? "overdue" : days === 0 ? "due-today" : "upcoming";
  }

  function pin(tp) {
    return L.divIcon({
      className: "tp-pin tp-pin--" + shownState(tp) + (waiting[tp.id] ? " tp-pin--waiting" : ""),
      html: "",
      iconSize: [44, 44], // the target; the dot drawn in it is 30 px (map-frame.css)
      iconAnchor: [22, 22],
      popupAnchor: [0, -14]
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function action(tp, name, label, className) {
    var link = el("a", className, label);
    link.setAttribute("role", "button");
    link.href = url(config()[name + "Url"], tp.id);
    link.target = "_top";
    link.addEventListener("click", function (event) {
      // Framed by the app: the page opens the same htmx form as the list, in its panel.
      if (window.parent !== window) {
        event.preventDefault();
        window.parent.postMessage({ type: "tpweb:open", action: name, id: tp.id }, location.origin);
      }
    });
    return link;
  }

  // Call, Text, Email and Directions in the phone's own apps: the server sends the number as
  // + and digits and the email already encoded (tpweb/domain/reach.py); directions go to the pin.
  function reach(tp) {
    var links = el("div", "tp-popup-reach");
    var targets = [
      ["Call", tp.number && "tel:" + tp.number],
      ["Text", tp.number && "sms:" + tp.number],
      ["Email", tp.email && "mailto:" + tp.email],
      ["Directions", config().directionsUrl + tp.lat + "," + tp.lon]
    ];
    targets.forEach(function (target) {
      if (!target[1]) return;
      var link = el("a", "tp-reach", target[0]);
      link.href = target[1];
      // The maps site in a tab of its own (the app stays put when no maps app takes the link).
      link.target = target[0] === "Directions" ? "_blank" : "_top";
      if (link.target === "_blank") link.rel = "noopener";
      links.appendChild(link);
    });
    return links;
  }

  function popup(tp) {
    var box = el("div", "tp-popup");
    var title = el("strong", "tp-popup-title");
    var account = el("a", "", tp.name);
    account.href = url(config()[tp.customer ? "jobsiteUrl" : "customerUrl"], tp.account);
    account.target = "_top";
    title.appendChild(account);
    box.appendChild(title);
    if (tp.customer) box.appendChild(el("small", "tp-popup-sub", "Jobsite of " + tp.customer));
    var mine = waiting[tp.id];
    var next = mine && mine.next ? mine.next : tp.next;
    var state = shownState(tp);
    box.appendChild(el("span", "tp-badge tp-badge--" + state, state === "done" ? "Completed" : dueText(next, state)));
    if (mine) box.appendChild(el("span", "tp-badge tp-badge--waiting", "Waiting to send"));
    var dates = el("dl", "tp-popup-dates");
    [["Next Call", longDate(next)], ["Last Call", longDate(tp.last)]].forEach(function (pair) {
      dates.appendChild(el("dt", "", pair[0]));
      dates.appendChild(el("dd", "", pair[1]));
    });
    box.appendChild(dates);
    if (config().showRep && tp.rep) box.appendChild(el("p", "tp-popup-rep", "Sales Rep: " + tp.rep));
    if (tp.comment) box.appendChild(el("p", "tp-popup-comment", tp.comment));
    box.appendChild(reach(tp));
    var actions = el("div", "tp-popup-actions");
    // A call logged on the phone is not logged twice (the queue refuses it too).
    if (state !== "done") actions.appendChild(action(tp, "complete", "Complete", "tp-button"));
    actions.appendChild(action(tp, "edit", "Reschedule", "tp-button tp-button--secondary"));
    box.appendChild(actions);
    return box;
  }

  // folium's FastMarkerCluster calls this once per row.
  function marker(row) {
    var tp = fromRow(row);
    // No pan on focus: a tap focuses the pin first, and a pin near the edge would slide away
    // from under the finger before the tap ends, so the popup would never open.
    var m = L.marker([tp.lat, tp.lon], {
      icon: pin(tp), title: tp.name, riseOnHover: true, autoPanOnFocus: false
    });
    m.tp = tp;
    m.bindPopup(function (layer) { return popup(layer.tp); }, {
      minWidth: 220, maxWidth: 280, autoPanPaddingTopLeft: [12, 48], autoPanPaddingBottomRight: [12, 12]
    });
    markers[tp.id] = m;
    return m;
  }

  // A cluster shows how many pins it holds, in the colour of the most urgent of them.
  function clusterIcon(cluster) {
    var worst = "later";
    cluster.getAllChildMarkers().forEach(function (m) {
      var state = shownState(m.tp);
      if (RANK[state] < RANK[worst]) worst = state;
    });
    var count = cluster.getChildCount();
    var size = count < 10 ? 44 : count < 100 ? 48 : 54;
    return L.divIcon({
      html: "<span>" + Number(count) + "</span>",
      className: "tp-cluster tp-cluster--" + worst,
      iconSize: L.point(size, size)
    });
  }

  function counts() {
    var totals = { overdue: 0, "due-today": 0, upcoming: 0, later: 0 };
    Object.keys(markers).forEach(function (id) {
      var state = shownState(markers[id].tp);
      if (state in totals) totals[state] += 1;
    });
    return totals;
  }

  function tellParent(message) {
    if (window.parent !== window) window.parent.postMessage(message, location.origin);
  }

  // A touchpoint changed (Complete, Reschedule): recolour its pin, or take it off the map.
  function update(id, row) {
    if (!group) return; // the map is not drawn yet: it will be, from the server's rows
    var old = markers[id];
    if (old && !row) {
      group.removeLayer(old);
      delete markers[id];
    } else if (old && row) {
      var wasOpen = old.isPopupOpen();
      old.tp = fromRow(row);
      old.setIcon(pin(old.tp));
      old.setLatLng([old.tp.lat, old.tp.lon]);
      group.refreshClusters(old);
      if (wasOpen) old.setPopupContent(popup(old.tp));
    } else if (row) {
      group.addLayer(marker(row));
    }
    tellParent({ type: "tpweb:counts", counts: counts() });
  }

  // What waits on the phone changed: the pins it concerns now, or no longer, are drawn again.
  function showWaiting(touchpoints) {
    var before = waiting;
    waiting = touchpoints || {};
    // Told before the map's script has drawn the pins (the frame still loading): they will be
    // drawn with `waiting` as it is now.
    if (!group) return;
    Object.keys(markers).forEach(function (id) {
      if (!before[id] && !waiting[id]) return;
      var m = markers[id];
      m.setIcon(pin(m.tp));
      if (m.isPopupOpen()) m.setPopupContent(popup(m.tp));
    });
    group.refreshClusters();
    tellParent({ type: "tpweb:counts", counts: counts() });
  }

  function showHere(lat, lon, move) {
    if (!here) {
      // A dot in a soft halo, as phones draw "you are here".
      here = L.layerGroup([
        L.circleMarker([lat, lon], {
          radius: 20, stroke: false, fillColor: "#1565c0", fillOpacity: 0.18, interactive: false
        }),
        L.circleMarker([lat, lon], {
          radius: 8, weight: 3, color: "#fff", fillColor: "#1565c0", fillOpacity: 1,
          className: "tp-here", interactive: false
        })
      ]).addTo(map);
    } else {
      here.eachLayer(function (layer) { layer.setLatLng([lat, lon]); });
    }
    if (move) viewAround(lat, lon);
  }

  // Centred on the phone, zoomed out just far enough to show the few nearest touchpoints: a bare
  // street-level view would often show none of them.
  function viewAround(lat, lon) {
    var scale = Math.cos(lat * Math.PI / 180);
    var nearest = Object.keys(markers).map(function (id) {
      var tp = markers[id].tp;
      var north = tp.lat - lat;
      var east = (tp.lon - lon) * scale;
      return { tp: tp, distance: north * north + east * east };
    }).sort(function (a, b) { return a.distance - b.distance; }).slice(0, NEAREST);
    var dLat = 0.005;
    var dLon = 0.005;
    nearest.forEach(function (near) {
      dLat = Math.max(dLat, Math.abs(near.tp.lat - lat));
      dLon = Math.max(dLon, Math.abs(near.tp.lon - lon));
    });
    map.fitBounds([[lat - dLat, lon - dLon], [lat + dLat, lon + dLon]], { padding: [20, 20], maxZoom: 15 });
  }

  // With no tiles, faint lines every 256 px that move with the map, so a pan still feels like one.
  var Grid = L.GridLayer.extend({
    createTile: function () {
      var tile = document.createElement("div");
      tile.className = "tp-grid-tile";
      return tile;
    }
  });

  // Leaflet focuses the map on a press so its keys work; the browser then scrolls the page around
  // the frame to show the whole map, and the press ends on another spot: the tap is lost
  // (Leaflet issues 1605 and 5392). Focus without scrolling; the keys still work.
  L.Map.Keyboard.include({
    _onMouseDown: function () {
      if (!this._focused) this._map.getContainer().focus({ preventScroll: true });
    }
  });

  L.Map.addInitHook(function () {
    map = this;
    if (!config().tiles) new Grid({ pane: "tilePane" }).addTo(map);
  });
  L.MarkerClusterGroup.addInitHook(function () { group = this; });

  window.addEventListener("message", function (event) {
    if (event.origin !== location.origin || event.source !== window.parent) return;
    var data = event.data || {};
    if (data.type === "tpweb:update") update(data.id, data.row);
    if (data.type === "tpweb:here") showHere(data.lat, data.lon, true);
    if (data.type === "tpweb:waiting") showWaiting(data.touchpoints);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var near = config().near;
    if (near) showHere(Number(near.split(",")[0]), Number(near.split(",")[1]), true);
    tellParent({ type: "tpweb:ready", counts: counts() });
  });

  window.tpwebMap = { marker: marker, clusterIcon: clusterIcon, update: update };
})();
