// smartcomm campaigns list: the "New campaign" dialog puts the cursor in its name field when it opens.
(function () {
  "use strict";

  document.addEventListener("shown.bs.modal", function (event) {
    if (event.target.id !== "new-campaign-dialog") { return; }
    var name = document.getElementById("new-campaign-name");
    if (name) { name.focus(); }
  });
})();
