/* Behaviour for the site's pages, bound here rather than in inline handlers (the Content-Security-Policy allows
   scripts from our own static files only). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
})();
