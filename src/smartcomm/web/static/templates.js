// smartcomm: the template pages — the SMS part counter, the live phone preview, inserting variables,
// the preview's width switch and the code editor's preview frame. Plain DOM code (the pages allow no
// inline script and no eval); the counter computes exactly what personalization/sms_parts.py computes.
(function () {
  "use strict";

  // ---- SMS parts: GSM-7 (160, 153 per part) or UCS-2 (70, 67 per part) ---------------------------------

  var GSM7_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENSION = "\f^{}\\[~]|€";
  var LIMITS = { "GSM-7": [160, 153], "UCS-2": [70, 67] };

  function characters(text) { return Array.from(text); }  // code points, as Python iterates a str

  function isGsm7(chars) {
    return chars.every(function (c) { return GSM7_BASIC.indexOf(c) !== -1 || GSM7_EXTENSION.indexOf(c) !== -1; });
  }

  function unitSizes(chars, gsm) {
    return chars.map(function (c) {
      if (gsm) { return GSM7_EXTENSION.indexOf(c) !== -1 ? 2 : 1; }
      return c.codePointAt(0) > 0xFFFF ? 2 : 1;
    });
  }

  function countParts(text) {
    var chars = characters(text || "");
    var gsm = isGsm7(chars);
    var encoding = gsm ? "GSM-7" : "UCS-2";
    var single = LIMITS[encoding][0], multi = LIMITS[encoding][1];
    var sizes = unitSizes(chars, gsm);
    var units = sizes.reduce(function (a, b) { return a + b; }, 0);
    if (units === 0) { return { encoding: encoding, units: 0, parts: 0, perPart: single, remaining: single }; }
    if (units <= single) { return { encoding: encoding, units: units, parts: 1, perPart: single, remaining: single - units }; }
    var parts = 1, used = 0;
    sizes.forEach(function (size) {
      if (used + size > multi) { parts += 1; used = 0; }
      used += size;
    });
    return { encoding: encoding, units: units, parts: parts, perPart: multi, remaining: multi - used };
  }

  function updateCounter(counter) {
    var source = document.querySelector(counter.getAttribute("data-source"));
    if (!source) { return; }
    var result = countParts(source.value);
    var values = { encoding: result.encoding, units: result.units, parts: result.parts, remaining: result.remaining };
    Object.keys(values).forEach(function (key) {
      var slot = counter.querySelector('[data-count="' + key + '"]');
      if (slot) { slot.textContent = String(values[key]); }
    });
    counter.classList.toggle("is-long", result.parts > 1);
    counter.setAttribute("data-parts", String(result.parts));
  }

  // ---- the live phone preview: elements mirroring the form's fields -----------------------------------

  function isWebAddress(value) { return /^https?:\/\/\S+$/i.test(value || ""); }

  function updateMirrors() {
    document.querySelectorAll("[data-mirror]").forEach(function (target) {
      var source = document.querySelector(target.getAttribute("data-mirror"));
      target.textContent = source ? source.value : "";
    });
    document.querySelectorAll("[data-mirror-src]").forEach(function (image) {
      var source = document.querySelector(image.getAttribute("data-mirror-src"));
      var value = source ? source.value.trim() : "";
      image.hidden = !isWebAddress(value);
      if (!image.hidden && image.getAttribute("src") !== value) { image.setAttribute("src", value); }
    });
  }

  function refreshLive() {
    document.querySelectorAll("[data-sms-counter]").forEach(updateCounter);
    updateMirrors();
  }

  // ---- inserting variables where the cursor is (or copying them, for the visual editor) ---------------

  var lastField = null;

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-insertable]")) { lastField = event.target; }
  });

  function insertInto(field, snippet) {
    if (field.scCodeMirror) {
      field.scCodeMirror.replaceSelection(snippet);
      field.scCodeMirror.focus();
      return;
    }
    var start = field.selectionStart === null ? field.value.length : field.selectionStart;
    var end = field.selectionEnd === null ? field.value.length : field.selectionEnd;
    field.value = field.value.slice(0, start) + snippet + field.value.slice(end);
    field.focus();
    field.setSelectionRange(start + snippet.length, start + snippet.length);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function copy(snippet) {
    var done = function () {
      var messages = document.getElementById("visual-messages");
      var text = messages ? messages.getAttribute("data-copied") : snippet;
      if (window.smartcomm) { window.smartcomm.toast(text + " — " + snippet, "success"); }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(snippet).then(done, done);
    } else { done(); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-insert]");
    if (!button) { return; }
    event.preventDefault();
    var snippet = button.getAttribute("data-insert");
    if (button.hasAttribute("data-copy")) { copy(snippet); return; }
    var named = button.getAttribute("data-target");
    var field = (named && document.querySelector(named)) || lastField || document.querySelector("[data-insertable]");
    if (field) { insertInto(field, snippet); }
  });

  // ---- the code editor's preview: its width, and refreshing it --------------------------------------

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-device]");
    if (!button || button.tagName !== "BUTTON") { return; }
    var stage = document.getElementById("draft-stage");
    if (!stage) { return; }
    stage.setAttribute("data-device", button.getAttribute("data-device"));
    button.parentElement.querySelectorAll("[data-device]").forEach(function (other) {
      other.classList.toggle("active", other === button);
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
  });

  function refreshDraftPreview() {
    var button = document.getElementById("refresh-preview");
    var form = button && button.form;
    if (form && form.requestSubmit) { form.requestSubmit(button); }
  }

  var pending = null;
  function refreshDraftPreviewSoon() {
    window.clearTimeout(pending);
    pending = window.setTimeout(refreshDraftPreview, 1200);
  }

  // ---- forms that apply their choice at once --------------------------------------------------------

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-autosubmit]") && event.target.form) {
      event.target.form.submit();
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#template-form")) { refreshLive(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    refreshLive();
    if (document.getElementById("refresh-preview")) { window.setTimeout(refreshDraftPreview, 300); }
  });

  window.smartcommTemplates = { countParts: countParts, refreshDraftPreviewSoon: refreshDraftPreviewSoon };
})();
