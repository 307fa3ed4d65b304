/* django-import-export's export page binds "Select all" with an inline onchange handler, which the
   Content-Security-Policy refuses to run: bind the same function here. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function (event) {
      if (typeof onSelectToggleChange === "function") onSelectToggleChange(event);
    });
  });
});
