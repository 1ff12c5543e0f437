// smartcomm: toasts for htmx responses and auto-hiding of page toasts.
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

  window.smartcomm = { toast: showToast };
})();
