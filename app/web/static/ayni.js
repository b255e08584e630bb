/* Ayni web console: small progressive enhancements. Every page works without
   this file; it only asks for confirmation before irreversible actions. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
