/* Behaviour for the site's pages, bound here rather than in inline handlers (the Content-Security-Policy allows
   scripts from our own static files only). */
(function () {
  "use strict";
  // A printed worker file shows every section: folded <details> open for the print and fold back afterwards.
  var opened = [];
  function openForPrint() {
    var folded = document.querySelectorAll("details:not([open])");
    for (var i = 0; i < folded.length; i++) {
      folded[i].open = true;
      opened.push(folded[i]);
    }
  }
  function foldAfterPrint() {
    while (opened.length) {
      opened.pop().open = false;
    }
  }
  window.addEventListener("beforeprint", openForPrint);
  window.addEventListener("afterprint", foldAfterPrint);
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) {
      event.preventDefault();
      openForPrint();
      window.print();
    }
  });
})();
