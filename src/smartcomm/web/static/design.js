// Settings → Design: the preview frame shows the public page with the values being edited.
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("design-form");
    var frame = document.getElementById("design-preview");
    var stage = document.getElementById("preview-stage");
    if (!form || !frame || !stage) return;
    var state = { page: "unsubscribe", lang: document.documentElement.lang || "en" };
    var timer = null;

    function previewUrl() {
      var params = new URLSearchParams({ page: state.page, lang: state.lang });
      form.querySelectorAll("[data-preview]").forEach(function (field) {
        if (field.value) params.set(field.name, field.value);
      });
      return "/settings/design/preview?" + params.toString();
    }

    function refresh(delay) {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { frame.src = previewUrl(); }, delay);
    }

    function mark(selector, attribute, value) {
      document.querySelectorAll(selector).forEach(function (button) {
        button.classList.toggle("active", button.getAttribute(attribute) === value);
      });
    }

    function show(page, lang, fromTab) {
      var changed = page !== state.page || lang !== state.lang;
      state.page = page;
      state.lang = lang;
      var tab = document.querySelector('[data-page-tab="' + page + '"]');
      var name = document.getElementById("preview-page-name");
      if (tab && name) name.textContent = tab.getAttribute("data-page-name");
      if (tab && !fromTab && !tab.classList.contains("active")) tab.click();  // the page's texts, shown beside
      mark("[data-preview-lang]", "data-preview-lang", lang);
      if (changed) refresh(0);
    }

    form.addEventListener("input", function (event) {
      var target = event.target;
      if (target.type === "color") {
        var code = form.querySelector('[data-colour-for="' + target.name + '"]');
        if (code) code.textContent = target.value;
      }
      if (target.hasAttribute("data-preview")) refresh(250);
    });
    form.addEventListener("focusin", function (event) {
      var target = event.target;
      if (target.dataset && target.dataset.page) show(target.dataset.page, target.dataset.lang || state.lang);
    });
    document.querySelectorAll("[data-page-tab]").forEach(function (tab) {
      tab.addEventListener("click", function () { show(tab.getAttribute("data-page-tab"), state.lang, true); });
    });
    document.querySelectorAll("[data-preview-lang]").forEach(function (button) {
      button.addEventListener("click", function () { show(state.page, button.getAttribute("data-preview-lang")); });
    });
    document.querySelectorAll("[data-preview-device]").forEach(function (button) {
      button.addEventListener("click", function () {
        stage.setAttribute("data-device", button.getAttribute("data-preview-device"));
        mark("[data-preview-device]", "data-preview-device", button.getAttribute("data-preview-device"));
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
