// smartcomm data settings: drag-and-drop ordering and copy-to-clipboard buttons.
(function () {
  "use strict";

  // A `[data-sortable]` list whose rows hold `input[name="ids[]"]` and a `.sc-drag-handle`.
  // After a drop that changed the order it fires "reordered"; htmx posts the new order on that event.
  function makeSortable(list) {
    if (list.dataset.sortableReady || !window.Sortable) { return; }
    list.dataset.sortableReady = "true";
    window.Sortable.create(list, {
      handle: ".sc-drag-handle",
      animation: 150,
      forceFallback: true,
      ghostClass: "sc-drag-ghost",
      chosenClass: "sc-drag-chosen",
      onEnd: function (event) {
        if (event.oldIndex !== event.newIndex) {
          list.dispatchEvent(new CustomEvent("reordered", { bubbles: true }));
        }
      }
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) { return navigator.clipboard.writeText(text); }
    var helper = document.createElement("textarea");
    helper.value = text;
    helper.setAttribute("readonly", "");
    helper.style.position = "fixed";
    helper.style.opacity = "0";
    document.body.appendChild(helper);
    helper.select();
    document.execCommand("copy");
    helper.remove();
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var source = document.querySelector(button.dataset.copyTarget);
    if (!source) { return; }
    copyText(source.value !== undefined ? source.value : source.textContent).then(function () {
      if (window.smartcomm) { window.smartcomm.toast(button.dataset.copiedText || "Copied"); }
    });
  });

  // Deferred scripts run once the document is parsed: attach to the lists on the page now, and to
  // lists that htmx swaps in later.
  function attachWithin(root) {
    if (root.matches && root.matches("[data-sortable]")) { makeSortable(root); }
    if (root.querySelectorAll) { root.querySelectorAll("[data-sortable]").forEach(makeSortable); }
  }
  attachWithin(document);
  if (window.htmx) { window.htmx.onLoad(attachWithin); }
})();
