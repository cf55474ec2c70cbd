/* Copy buttons: a button[data-copy] copies the value of the field whose id it names (Settings'
   calendar link). Shown only where the browser has a clipboard; the field stays selectable. */
(function () {
  "use strict";

  if (window.tpwebCopy) {
    window.tpwebCopy.show(document);
    return;
  }

  function show(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("button[data-copy]").forEach(function (button) { button.hidden = false; });
  }

  function say(button, words) {
    var note = document.getElementById(button.dataset.copyNote);
    if (note) note.textContent = words;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    navigator.clipboard.writeText(field.value).then(function () {
      say(button, "Copied.");
    }, function () {
      field.select();
      say(button, "Select the link and copy it.");
    });
  });

  window.tpwebCopy = { show: show };
  show(document);
})();
