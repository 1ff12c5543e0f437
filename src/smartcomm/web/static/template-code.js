// smartcomm: the HTML / MJML code editor of e-mail templates (CodeMirror 5 from npm), with template tags
// ({{ … }}, {% … %}, {# … #}) highlighted over the HTML or XML mode. The textarea stays the form's
// field: CodeMirror writes back into it when the form is sent (saving, or refreshing the preview).
(function () {
  "use strict";

  function templateTags() {
    return {
      token: function (stream) {
        if (stream.match("{{") || stream.match("{%") || stream.match("{#")) {
          var close = { "{{": "}}", "{%": "%}", "{#": "#}" }[stream.current()];
          while (!stream.eol()) {
            if (stream.match(close)) { break; }
            stream.next();
          }
          return "template-tag";
        }
        while (stream.next() != null && !stream.match(/^\{[{%#]/, false)) { /* skip to the next tag */ }
        return null;
      }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.querySelector("textarea[data-code-editor]");
    if (!area || !window.CodeMirror) { return; }
    var base = area.getAttribute("data-code-editor") === "mjml" ? "xml" : "htmlmixed";
    window.CodeMirror.defineMode("smartcomm-" + base, function (config) {
      return window.CodeMirror.overlayMode(window.CodeMirror.getMode(config, base), templateTags());
    });
    var editor = window.CodeMirror.fromTextArea(area, {
      mode: "smartcomm-" + base,
      lineNumbers: true,
      lineWrapping: true,
      indentUnit: 2,
      tabSize: 2,
      viewportMargin: 50
    });
    area.scCodeMirror = editor;
    editor.on("focus", function () { area.dispatchEvent(new Event("focusin", { bubbles: true })); });
    editor.on("change", function () {
      editor.save();
      if (window.smartcommTemplates) { window.smartcommTemplates.refreshDraftPreviewSoon(); }
    });
  });
})();
