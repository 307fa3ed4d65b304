/* The ledger export's progress page (admin): poll its JSON until the file is ready or the export failed.
   The texts come from data attributes, translated by the template. */
(function () {
  "use strict";
  var box = document.getElementById("ledger-export");
  if (!box) return;
  var bar = document.getElementById("ledger-progress");
  var link = document.getElementById("ledger-download");
  var state = document.getElementById("ledger-state");
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
      bar.max = p.total || 1; bar.value = p.done;
      if (p.download) { link.href = p.download; link.hidden = false; state.textContent = box.dataset.readyText; return; }
      if (p.state === "failed") { state.textContent = box.dataset.failedText; return; }
      setTimeout(poll, 1500);
    });
  }
  if (box.dataset.running === "true") setTimeout(poll, 1000);
})();
