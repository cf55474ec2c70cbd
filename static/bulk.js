/* The Sales Rep page's move (templates/reps/show.html): "N selected" written into the bar as the
   boxes are ticked, so that a screen reader hears it (the bar's count is a polite live region).
   Without this script the count is still shown, by CSS counters (app.css). Loaded again by each
   boosted visit to the page: one listener on the document does for all of them. */
(function () {
  "use strict";

  if (window.tpwebBulk) return;
  window.tpwebBulk = true;

  function say(form) {
    var count = form.querySelector(".bulk-count");
    if (!count) return;
    var all = form.querySelector("[name=all_matching]");
    var picked = form.querySelectorAll("[name=account_ids]:checked").length;
    count.textContent = all && all.checked ? "All " + count.dataset.all + " selected" : picked + " selected";
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form.reassign");
    if (form && event.target.type === "checkbox" && event.target.name !== "move_tasks") say(form);
  });
})();
