// The public poll page: shows and hides questions by their conditions as the customer answers, and keeps
// a multiple-choice question within its maximum. The server checks everything again; without this
// script every question is shown and answers to questions that should be hidden are dropped there.
(function () {
  "use strict";

  function chosen(fieldset) {
    var values = [];
    fieldset.querySelectorAll("input:checked").forEach(function (input) { values.push(input.value); });
    return values;
  }

  function holds(condition, shown) {
    var target = shown[condition.question];
    if (!target) { return false; }
    var picked = chosen(target);
    return condition.options.some(function (option) { return picked.indexOf(option) !== -1; });
  }

  function refresh(form) {
    var shown = {};
    form.querySelectorAll(".poll-question").forEach(function (fieldset) {
      var conditions = JSON.parse(fieldset.getAttribute("data-conditions") || "[]");
      var visible = conditions.every(function (condition) { return holds(condition, shown); });
      if (visible && fieldset.hidden) {
        fieldset.classList.add("poll-appearing");
      }
      fieldset.hidden = !visible;
      if (visible) { shown[fieldset.getAttribute("data-question")] = fieldset; }
    });
  }

  function limit(fieldset) {
    var max = parseInt(fieldset.getAttribute("data-max") || "0", 10);
    if (!max) { return; }
    var boxes = fieldset.querySelectorAll("input[type=checkbox]");
    var count = fieldset.querySelectorAll("input[type=checkbox]:checked").length;
    boxes.forEach(function (box) { box.disabled = !box.checked && count >= max; });
  }

  function start() {
    var form = document.getElementById("poll-form");
    if (!form) { return; }
    form.querySelectorAll(".poll-type-multiple").forEach(limit);
    refresh(form);
    form.addEventListener("change", function (event) {
      var fieldset = event.target.closest(".poll-question");
      if (fieldset && fieldset.classList.contains("poll-type-multiple")) { limit(fieldset); }
      refresh(form);
    });
    form.addEventListener("submit", function () {
      var button = document.getElementById("poll-submit");
      // A double tap sends one request; the page that answers replaces this one.
      window.setTimeout(function () { if (button) { button.disabled = true; } }, 0);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
