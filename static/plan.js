/* Plan my day's page: Use my position fills the form's position from the phone, and the
   re-plan buttons (Skip, move up, move down) send it along, so the rest is planned from here.
   In Settings the same button fills the home base (data-use-position names its two fields). */
(function () {
  "use strict";

  if (window.tpwebPlan) {
    window.tpwebPlan.show(document);
    return;
  }

  var last = null;

  function fill(root, position) {
    root.querySelectorAll("form[data-replan]").forEach(function (form) {
      form.elements.lat.value = position ? String(position.lat) : "";
      form.elements.lon.value = position ? String(position.lon) : "";
    });
  }

  function use(button) {
    var form = button.closest("form");
    var note = form.querySelector("[data-position-note]");
    var fields = (button.dataset.usePosition || "lat lon").split(" ");
    note.textContent = "Finding your position…";
    navigator.geolocation.getCurrentPosition(function (found) {
      var here = { lat: found.coords.latitude.toFixed(6), lon: found.coords.longitude.toFixed(6) };
      form.elements[fields[0]].value = here.lat;
      form.elements[fields[1]].value = here.lon;
      var start = form.querySelector("input[name=start][value=here]");
      if (start) {
        start.checked = true;
        last = here;
        fill(document, last);
      }
      note.textContent = button.dataset.positionSet || "Your position is set.";
    }, function () {
      note.textContent = button.dataset.positionMissing ||
        "Your position is not available: allow location, or start from your home base.";
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }

  function show(root) {
    if (!("geolocation" in navigator)) return;
    root.querySelectorAll("[data-use-position]").forEach(function (button) { button.hidden = false; });
    fill(root, last);
  }

  // A form htmx puts back (Settings' plan defaults, with its errors) gets its button again.
  document.addEventListener("htmx:afterSettle", function (event) { show(event.target); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use-position]");
    if (button) use(button);
  });
  // A form being sent says so on its button, as every form should.
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[data-busy-label]");
    if (button) {
      button.setAttribute("aria-busy", "true");
      button.textContent = button.dataset.busyLabel;
    }
  });

  window.tpwebPlan = { show: show };
  show(document);
})();
