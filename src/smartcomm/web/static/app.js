// smartcomm: toasts for htmx responses and auto-hiding of page toasts, confirmations, the page dialog
// and the Alpine components shared by several pages.
(function () {
  "use strict";

  function hideLater(toast) {
    setTimeout(function () { toast.classList.remove("show"); toast.remove(); }, 5000);
  }

  function showToast(message, category) {
    var container = document.getElementById("toasts");
    if (!container) { return; }
    var toast = document.createElement("div");
    toast.className = "toast show sc-toast sc-toast-" + (category || "success");
    toast.setAttribute("role", "status");
    var body = document.createElement("div");
    body.className = "toast-body d-flex align-items-center gap-2";
    var text = document.createElement("span");
    text.className = "flex-fill";
    text.textContent = message;
    body.appendChild(text);
    toast.appendChild(body);
    container.appendChild(toast);
    hideLater(toast);
  }

  document.addEventListener("toast", function (event) {
    var items = (event.detail && event.detail.value) || event.detail || [];
    (Array.isArray(items) ? items : [items]).forEach(function (item) { showToast(item.message, item.category); });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast[data-autohide]").forEach(hideLater);
  });

  // Let error responses (422 with a re-rendered fragment) swap in like successful ones.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });

  // The pages allow no inline script (Content-Security-Policy): what used to be an onsubmit handler is a
  // data-confirm attribute, asked here before the form leaves.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // A page's one dialog (#dialog) gets its spinner back when it closes, so that the next form loaded
  // into it never shows the previous one first.
  var SPINNER = '<div class="modal-body text-center py-5"><div class="spinner-border text-secondary" role="status"></div></div>';
  document.addEventListener("hidden.bs.modal", function (event) {
    var content = event.target.id === "dialog" && event.target.querySelector("#dialog-content");
    if (content) { content.innerHTML = SPINNER; }
  });

  // Alpine components of several pages (Alpine's CSP build evaluates no JavaScript from attributes: what
  // an expression cannot say lives in these methods).
  document.addEventListener("alpine:init", function () {
    // Tabs whose choice is kept in the address (?tab=…), so a reload or a shared link opens the same tab.
    window.Alpine.data("addressedTabs", function (initial) {
      return {
        tab: initial,
        show: function (key) {
          this.tab = key;
          window.history.replaceState(null, "", "?tab=" + encodeURIComponent(key));
        }
      };
    });
    // A table row edited in place: "Edit" shows its input and puts the cursor in it.
    window.Alpine.data("inlineEdit", function (editing) {
      return {
        editing: editing,
        edit: function () {
          var row = this.$el.closest("tr");
          this.editing = true;
          this.$nextTick(function () {
            var input = row.querySelector("input[name=value]");
            if (input) { input.focus(); }
          });
        }
      };
    });
  });

  window.smartcomm = { toast: showToast };
})();
