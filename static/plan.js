/* Plan my day's page: Use my position fills the form's position from the phone, and the
   re-plan buttons (Skip, move up, move down) send it along, so the rest is planned from here. */
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
    note.textContent = "Finding your position…";
    navigator.geolocation.getCurrentPosition(function (found) {
      last = { lat: found.coords.latitude.toFixed(6), lon: found.coords.longitude.toFixed(6) };
      form.elements.lat.value = last.lat;
      form.elements.lon.value = last.lon;
      form.querySelector("input[name=start][value=here]").checked = true;
      note.textContent = "Your position is set.";
      fill(document, last);
    }, function () {
      note.textContent = "Your position is not available: allow location, or start from your home base.";
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }

  function show(root) {
    if (!("geolocation" in navigator)) return;
    root.querySelectorAll("[data-use-position]").forEach(function (button) { button.hidden = false; });
    fill(root, last);
  }

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
