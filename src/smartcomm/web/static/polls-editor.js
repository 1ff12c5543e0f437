// smartcomm poll editor: the questions as cards built from the page's JSON data block, reordered by drag and
// drop (SortableJS), with their options, matrix rows and visibility conditions; the questions are posted as
// JSON in a hidden field and checked again by the server. The same script draws the preview: the poll as a
// customer sees it, its conditions applied as answers are chosen (nothing is sent anywhere).
(function () {
  "use strict";

  var CHOICE = { single: true, multiple: true, matrix: true };
  var TYPES = ["single", "multiple", "matrix", "open", "text"];
  var source = document.getElementById("poll-editor-data");
  if (!source) { return; }
  var data = JSON.parse(source.textContent);
  var T = data.texts;
  var questions = data.questions || [];
  var limits = data.limits || {};
  var container = document.getElementById("questions");
  var used = {};
  var counters = { q: 0, a: 0, r: 0 };
  var errors = {};
  var listErrors = [];

  // --- small helpers -------------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "text") { node.textContent = value; }
      else if (key === "className") { node.className = value; }
      else { node.setAttribute(key, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) {
      if (child) { node.appendChild(typeof child === "string" ? document.createTextNode(child) : child); }
    });
    return node;
  }

  function icon(name) { return el("i", { className: "ti " + name }); }

  function numbered(text, n) { return String(text).replace("{n}", n); }

  function remember(id) {
    if (!id) { return; }
    used[id] = true;
    var found = /^([qar])(\d+)$/.exec(id);
    if (found) { counters[found[1]] = Math.max(counters[found[1]], parseInt(found[2], 10)); }
  }

  // A short id never used in this poll (nor by anything removed since the page opened): answers given
  // to an id keep their meaning, so an id is never handed out twice.
  function newId(prefix) {
    var id;
    do { counters[prefix] += 1; id = prefix + counters[prefix]; } while (used[id]);
    used[id] = true;
    return id;
  }

  function newChoice(prefix) { return { id: newId(prefix), label: "" }; }

  function byId(id) {
    for (var i = 0; i < questions.length; i++) { if (questions[i].id === id) { return questions[i]; } }
    return null;
  }

  function chosenIds(question, answer) {
    if (answer === undefined || answer === null || answer === "") { return []; }
    if (question.type === "single") { return [answer]; }
    if (question.type === "multiple") { return answer; }
    if (question.type === "matrix") { return Object.keys(answer).map(function (row) { return answer[row]; }); }
    return [];
  }

  // A question is shown when each of its conditions holds: the named earlier question is shown and its
  // answer includes one of the condition's options (as the server decides).
  function visibleIds(list, answers) {
    var shown = {};
    list.forEach(function (question) {
      var visible = (question.conditions || []).every(function (condition) {
        var target = shown[condition.question];
        if (!target) { return false; }
        var chosen = chosenIds(target, answers[target.id]);
        return chosen.some(function (id) { return condition.options.indexOf(id) !== -1; });
      });
      if (visible) { shown[question.id] = question; }
    });
    return shown;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) { return navigator.clipboard.writeText(text); }
    var helper = el("textarea", { readonly: true });
    helper.value = text;
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
    var field = document.querySelector(button.dataset.copyTarget);
    if (!field) { return; }
    copyText(field.value).then(function () {
      if (window.smartcomm) { window.smartcomm.toast(button.dataset.copiedText || T.copied); }
    });
  });

  // --- the errors the server sent, tied to questions (not positions: questions move) ----------------------

  function spotOf(question, rest) {
    var found = /^\.(options|rows)\[(\d+)\]/.exec(rest);
    if (found) {
      var item = (question[found[1]] || [])[parseInt(found[2], 10)];
      return item ? "choice:" + found[1] + ":" + item.id : found[1];
    }
    var field = /^\.([a-z_]+)/.exec(rest);
    var known = ["title", "description", "required", "type", "options", "rows", "max_choices", "conditions"];
    return field && known.indexOf(field[1]) !== -1 ? field[1] : "card";
  }

  function readErrors() {
    Object.keys(data.errors || {}).forEach(function (path) {
      var found = /^questions\[(\d+)\](.*)$/.exec(path);
      var question = found && questions[parseInt(found[1], 10)];
      if (!question) { listErrors.push(data.errors[path]); return; }
      var spot = spotOf(question, found[2]);
      errors[question.id] = errors[question.id] || {};
      if (!errors[question.id][spot]) { errors[question.id][spot] = data.errors[path]; }
    });
  }

  function errorOf(question, spot) { return (errors[question.id] || {})[spot]; }

  function feedback(message) {
    return message ? el("div", { className: "invalid-feedback d-block", "data-error-message": true, text: message }) : null;
  }

  function forget(question, spot, node) {
    if (errors[question.id]) { delete errors[question.id][spot]; }
    if (!node) { return; }
    node.classList.remove("is-invalid");
    var box = node.closest("[data-spot]");
    var message = box && box.querySelector(":scope > [data-error-message]");
    if (message) { message.remove(); }
  }

  // --- the question cards -------------------------------------------------------------------------------

  function field(question, spot, label, input, hint) {
    var message = errorOf(question, spot);
    if (message) { input.classList.add("is-invalid"); }
    return el("div", { className: "mb-3", "data-spot": spot }, [
      label ? el("label", { className: "form-label", text: label }) : null, input, feedback(message),
      hint ? el("small", { className: "form-hint", text: hint }) : null
    ]);
  }

  function header(question, index) {
    var select = el("select", { className: "form-select form-select-sm sc-type-select", "data-field": "type", "aria-label": T.type });
    TYPES.forEach(function (type) {
      select.appendChild(el("option", { value: type, selected: type === question.type, text: T.types[type] }));
    });
    var title = question.title || (question.type === "text" ? T.text_block : T.untitled);
    return el("div", { className: "card-header sc-question-head" }, [
      el("span", { className: "sc-drag-handle", title: T.drag, "aria-label": T.drag, role: "button" }, [icon("ti-grip-vertical")]),
      el("span", { className: "avatar avatar-sm bg-primary-lt sc-question-number", text: String(index + 1) }),
      select,
      el("span", { className: "sc-question-preview text-truncate", "data-preview-title": true, text: title }),
      el("div", { className: "ms-auto btn-list flex-nowrap" }, [
        el("button", { type: "button", className: "btn btn-sm btn-ghost-secondary btn-icon", "data-action": "move-up", title: T.move_up, "aria-label": T.move_up, disabled: index === 0 }, [icon("ti-arrow-up")]),
        el("button", { type: "button", className: "btn btn-sm btn-ghost-secondary btn-icon", "data-action": "move-down", title: T.move_down, "aria-label": T.move_down, disabled: index === questions.length - 1 }, [icon("ti-arrow-down")]),
        el("button", { type: "button", className: "btn btn-sm btn-ghost-danger btn-icon", "data-action": "remove-question", title: T.remove_question, "aria-label": T.remove_question }, [icon("ti-trash")])
      ])
    ]);
  }

  function choiceList(question, list) {
    var isRows = list === "rows";
    var items = el("div", { className: "sc-choices", "data-choice-list": list });
    question[list].forEach(function (choice, index) {
      var input = el("input", {
        type: "text", className: "form-control", maxlength: "300", value: choice.label,
        "data-choice": list, "data-choice-id": choice.id,
        placeholder: numbered(isRows ? T.row : T.option, index + 1),
        "aria-label": numbered(isRows ? T.row : T.option, index + 1)
      });
      var message = errorOf(question, "choice:" + list + ":" + choice.id);
      if (message) { input.classList.add("is-invalid"); }
      items.appendChild(el("div", { className: "sc-choice", "data-spot": "choice:" + list + ":" + choice.id, "data-id": choice.id }, [
        el("div", { className: "d-flex align-items-center gap-2" }, [
          el("span", { className: "sc-choice-handle", title: T.drag }, [icon("ti-grip-vertical")]),
          el("span", { className: "sc-choice-mark" + (question.type === "multiple" && !isRows ? " sc-choice-square" : "") }),
          input,
          el("button", { type: "button", className: "btn btn-icon btn-ghost-secondary", "data-action": "remove-choice", "data-list": list, "data-id": choice.id, title: T.remove, "aria-label": T.remove }, [icon("ti-x")])
        ]),
        feedback(message)
      ]));
    });
    var full = question[list].length >= (isRows ? limits.rows : limits.options);
    var message = errorOf(question, list);
    return el("div", { className: "mb-3", "data-spot": list }, [
      el("label", { className: "form-label", text: isRows ? T.rows : T.options }),
      items,
      feedback(message),
      el("button", { type: "button", className: "btn btn-sm btn-ghost-primary mt-1", "data-action": "add-choice", "data-list": list, disabled: full }, [
        icon("ti-plus"), " ", isRows ? T.add_row : T.add_option
      ])
    ]);
  }

  function maxChoices(question) {
    var select = el("select", { className: "form-select sc-max-choices", "data-field": "max_choices" });
    select.appendChild(el("option", { value: "", text: T.any_number }));
    for (var n = 1; n <= question.options.length; n++) {
      select.appendChild(el("option", { value: String(n), selected: question.max_choices === n, text: String(n) }));
    }
    return field(question, "max_choices", T.max_choices, select);
  }

  function requiredSwitch(question) {
    var input = el("input", { type: "checkbox", className: "form-check-input", "data-field": "required", checked: question.required });
    return el("div", { className: "mb-3", "data-spot": "required" }, [
      el("label", { className: "form-check form-switch mb-0" }, [input, el("span", { className: "form-check-label", text: T.required })]),
      feedback(errorOf(question, "required"))
    ]);
  }

  // Earlier choice questions: the only ones a condition may name.
  function earlierChoices(index) {
    return questions.slice(0, index).filter(function (q) { return CHOICE[q.type]; });
  }

  function conditionRow(question, condition, position, earlier) {
    var target = byId(condition.question);
    var valid = earlier.indexOf(target) !== -1;
    var select = el("select", { className: "form-select form-select-sm sc-condition-question", "data-condition-question": String(position), "aria-label": T.show_if });
    select.appendChild(el("option", { value: "", text: T.choose_question }));
    earlier.forEach(function (q) {
      var number = questions.indexOf(q) + 1;
      select.appendChild(el("option", { value: q.id, selected: q.id === condition.question, text: number + ". " + (q.title || T.untitled) }));
    });
    if (condition.question && !valid) {
      select.appendChild(el("option", { value: condition.question, selected: true, text: "⚠ " + (target && target.title || condition.question) }));
      select.classList.add("is-invalid");
    }
    var choices = el("div", { className: "sc-condition-options" });
    (target ? target.options : []).forEach(function (option, index) {
      choices.appendChild(el("label", { className: "form-check form-check-inline mb-0" }, [
        el("input", { type: "checkbox", className: "form-check-input", value: option.id, "data-condition-option": String(position), checked: condition.options.indexOf(option.id) !== -1 }),
        el("span", { className: "form-check-label", text: option.label || numbered(T.option, index + 1) })
      ]));
    });
    var problem = !valid && condition.question ? T.invalid_condition : (target && !condition.options.length ? T.choose_options : null);
    return el("div", { className: "sc-condition" + (!valid && condition.question ? " sc-condition-invalid" : ""), "data-condition": String(position), "data-valid": valid ? "true" : "false" }, [
      el("div", { className: "d-flex flex-wrap align-items-center gap-2" }, [
        el("span", { className: "text-secondary", text: T.show_if }), select,
        target ? el("span", { className: "text-secondary", text: T.answered_with }) : null,
        el("button", { type: "button", className: "btn btn-sm btn-icon btn-ghost-secondary ms-auto", "data-action": "remove-condition", "data-position": String(position), title: T.remove, "aria-label": T.remove }, [icon("ti-x")])
      ]),
      target ? choices : null,
      problem ? el("div", { className: (valid ? "text-warning" : "text-danger") + " small mt-1", "data-condition-problem": true, text: problem }) : null
    ]);
  }

  function conditionsBlock(question, index) {
    var earlier = earlierChoices(index);
    var block = el("div", { className: "sc-conditions", "data-spot": "conditions" }, [
      el("div", { className: "form-label d-flex align-items-center gap-1" }, [icon("ti-git-branch"), T.conditions])
    ]);
    if (!question.conditions.length) { block.appendChild(el("div", { className: "text-secondary small mb-2", text: T.always_shown })); }
    question.conditions.forEach(function (condition, position) {
      block.appendChild(conditionRow(question, condition, position, earlier));
    });
    var problem = feedback(errorOf(question, "conditions"));
    if (problem) { block.appendChild(problem); }
    block.appendChild(el("button", { type: "button", className: "btn btn-sm btn-ghost-primary mt-1", "data-action": "add-condition", disabled: !earlier.length || question.conditions.length >= 10 }, [icon("ti-plus"), " ", T.add_condition]));
    if (!earlier.length) { block.appendChild(el("div", { className: "form-hint", text: T.no_earlier })); }
    return block;
  }

  function card(question, index) {
    var isText = question.type === "text";
    var title = el("input", { type: "text", className: "form-control", maxlength: "500", value: question.title, "data-field": "title", placeholder: isText ? T.text_title : T.title });
    var description = el("textarea", { className: "form-control", rows: "2", maxlength: "2000", "data-field": "description", placeholder: T.description_hint });
    description.value = question.description || "";
    var body = el("div", { className: "card-body" }, [
      feedback(errorOf(question, "card") || errorOf(question, "type")),
      field(question, "title", isText ? T.text_title : T.title, title),
      field(question, "description", T.description, description),
      isText ? null : requiredSwitch(question),
      CHOICE[question.type] && question.type === "matrix" ? choiceList(question, "rows") : null,
      CHOICE[question.type] ? choiceList(question, "options") : null,
      question.type === "multiple" ? maxChoices(question) : null,
      conditionsBlock(question, index)
    ]);
    var invalid = question.conditions.some(function (c) { return c.question && earlierChoices(index).indexOf(byId(c.question)) === -1; });
    return el("div", { className: "card sc-question" + (invalid ? " sc-question-invalid" : ""), "data-qid": question.id, "data-type": question.type, "data-spot": "card" }, [header(question, index), body]);
  }

  function sortableChoices(node, question) {
    if (!window.Sortable) { return; }
    node.querySelectorAll("[data-choice-list]").forEach(function (list) {
      window.Sortable.create(list, {
        handle: ".sc-choice-handle", animation: 150, forceFallback: true, ghostClass: "sc-drag-ghost",
        onEnd: function (event) {
          if (event.oldIndex === event.newIndex) { return; }
          var items = question[list.dataset.choiceList];
          items.splice(event.newIndex, 0, items.splice(event.oldIndex, 1)[0]);
          render();
        }
      });
    });
  }

  function render(focusId) {
    container.textContent = "";
    questions.forEach(function (question, index) {
      var node = card(question, index);
      container.appendChild(node);
      sortableChoices(node, question);
    });
    if (!questions.length) { container.appendChild(el("div", { className: "text-secondary py-3", "data-empty": true, text: T.empty })); }
    var spot = document.querySelector('[data-error-path="questions"]');
    if (spot) {
      spot.textContent = "";
      listErrors.forEach(function (message) { spot.appendChild(el("div", { className: "alert alert-danger py-2", "data-error-message": true, text: message })); });
    }
    var count = document.getElementById("question-count");
    if (count) { count.textContent = questions.length + " / " + limits.questions; }
    document.querySelectorAll("[data-add-type]").forEach(function (button) { button.disabled = questions.length >= limits.questions; });
    if (focusId) {
      var added = container.querySelector('[data-qid="' + focusId + '"]');
      if (added) { added.scrollIntoView({ block: "center" }); added.querySelector('[data-field="title"]').focus(); }
    }
  }

  // --- changes ------------------------------------------------------------------------------------------

  function blank(type) {
    var question = { id: newId("q"), type: type, title: "", description: "", required: Boolean(CHOICE[type]), options: [], rows: [], max_choices: null, conditions: [] };
    if (CHOICE[type]) { question.options = [newChoice("a"), newChoice("a")]; }
    if (type === "matrix") { question.rows = [newChoice("r"), newChoice("r")]; }
    return question;
  }

  function retype(question, type) {
    var wasChoice = CHOICE[question.type];
    question.type = type;
    if (CHOICE[type] && !wasChoice) { question.options = [newChoice("a"), newChoice("a")]; }
    if (!CHOICE[type]) { question.options = []; }
    if (type === "matrix" && !question.rows.length) { question.rows = [newChoice("r"), newChoice("r")]; }
    if (type !== "matrix") { question.rows = []; }
    if (type !== "multiple") { question.max_choices = null; }
    if (type === "text") { question.required = false; }
  }

  function questionOf(node) {
    var holder = node.closest("[data-qid]");
    return holder ? byId(holder.dataset.qid) : null;
  }

  function onClick(event) {
    var button = event.target.closest("[data-action]");
    var question = button && questionOf(button);
    if (!question) { return; }
    var index = questions.indexOf(question);
    var action = button.dataset.action;
    if (action === "remove-question") { questions.splice(index, 1); }
    else if (action === "move-up" && index > 0) { questions.splice(index - 1, 0, questions.splice(index, 1)[0]); }
    else if (action === "move-down" && index < questions.length - 1) { questions.splice(index + 1, 0, questions.splice(index, 1)[0]); }
    else if (action === "add-choice") { question[button.dataset.list].push(newChoice(button.dataset.list === "rows" ? "r" : "a")); }
    else if (action === "remove-choice") { removeChoice(question, button.dataset.list, button.dataset.id); }
    else if (action === "add-condition") { addCondition(question, index); }
    else if (action === "remove-condition") { question.conditions.splice(parseInt(button.dataset.position, 10), 1); }
    else { return; }
    render();
  }

  function removeChoice(question, list, id) {
    question[list] = question[list].filter(function (choice) { return choice.id !== id; });
    if (question.max_choices && question.max_choices > question.options.length) { question.max_choices = null; }
    // Conditions on a removed option no longer name it.
    questions.forEach(function (q) {
      q.conditions.forEach(function (c) {
        if (c.question === question.id) { c.options = c.options.filter(function (option) { return option !== id; }); }
      });
    });
  }

  function addCondition(question, index) {
    var earlier = earlierChoices(index);
    if (earlier.length) { question.conditions.push({ question: earlier[earlier.length - 1].id, options: [] }); }
  }

  function onInput(event) {
    var target = event.target;
    var question = questionOf(target);
    if (!question) { return; }
    if (target.dataset.field === "title" || target.dataset.field === "description") {
      question[target.dataset.field] = target.value;
      forget(question, target.dataset.field, target);
      if (target.dataset.field === "title") {
        var preview = target.closest(".sc-question").querySelector("[data-preview-title]");
        preview.textContent = target.value || (question.type === "text" ? T.text_block : T.untitled);
      }
    } else if (target.dataset.choice) {
      var choice = question[target.dataset.choice].filter(function (c) { return c.id === target.dataset.choiceId; })[0];
      if (choice) { choice.label = target.value; }
      forget(question, "choice:" + target.dataset.choice + ":" + target.dataset.choiceId, target);
    }
  }

  function onChange(event) {
    var target = event.target;
    var question = questionOf(target);
    if (!question) { return; }
    var position = target.dataset.conditionQuestion || target.dataset.conditionOption;
    var condition = position !== undefined ? question.conditions[parseInt(position, 10)] : null;
    if (target.dataset.field === "type") { retype(question, target.value); }
    else if (target.dataset.field === "required") { question.required = target.checked; return; }
    else if (target.dataset.field === "max_choices") { question.max_choices = target.value ? parseInt(target.value, 10) : null; return; }
    else if (target.dataset.conditionQuestion !== undefined) { condition.question = target.value; condition.options = []; }
    else if (target.dataset.conditionOption !== undefined) { toggle(condition.options, target.value, target.checked); }
    else if (target.dataset.choice || target.dataset.field === "title") { refreshConditions(); return; }
    else { return; }
    render();
  }

  // A title or an option's label changed: the conditions' pickers show the new words. The words are changed
  // in place (no element is replaced), so the button or field the pointer went to next still gets the click.
  function refreshConditions() {
    container.querySelectorAll("select[data-condition-question] option[value]").forEach(function (option) {
      var target = byId(option.value);
      if (target && option.value) { option.textContent = (questions.indexOf(target) + 1) + ". " + (target.title || T.untitled); }
    });
    container.querySelectorAll("input[data-condition-option]").forEach(function (box) {
      var question = questionOf(box);
      var condition = question.conditions[parseInt(box.dataset.conditionOption, 10)];
      var target = condition && byId(condition.question);
      var options = target ? target.options : [];
      var at = options.map(function (o) { return o.id; }).indexOf(box.value);
      if (at !== -1) { box.nextElementSibling.textContent = options[at].label || numbered(T.option, at + 1); }
    });
  }

  function toggle(list, value, on) {
    var at = list.indexOf(value);
    if (on && at === -1) { list.push(value); }
    if (!on && at !== -1) { list.splice(at, 1); }
  }

  function serialized() {
    return questions.map(function (q) {
      return {
        id: q.id, type: q.type, title: q.title, description: q.description || null,
        required: q.type === "text" ? false : Boolean(q.required),
        options: CHOICE[q.type] ? q.options : [], rows: q.type === "matrix" ? q.rows : [],
        max_choices: q.type === "multiple" ? q.max_choices : null, conditions: q.conditions
      };
    });
  }

  function startEditor() {
    questions.forEach(function (q) {
      remember(q.id);
      (q.options || []).concat(q.rows || []).forEach(function (c) { remember(c.id); });
    });
    readErrors();
    render();
    container.addEventListener("click", onClick);
    container.addEventListener("input", onInput);
    container.addEventListener("change", onChange);
    document.querySelectorAll("[data-add-type]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (questions.length >= limits.questions) { window.smartcomm.toast(T.too_many, "danger"); return; }
        var question = blank(button.dataset.addType);
        questions.push(question);
        render(question.id);
      });
    });
    if (window.Sortable) {
      window.Sortable.create(container, {
        handle: ".sc-drag-handle", draggable: ".sc-question", animation: 150, forceFallback: true,
        ghostClass: "sc-drag-ghost", chosenClass: "sc-drag-chosen",
        onEnd: function (event) {
          if (event.oldIndex === event.newIndex) { return; }
          questions.splice(event.newIndex, 0, questions.splice(event.oldIndex, 1)[0]);
          render();
        }
      });
    }
    document.getElementById("poll-form").addEventListener("submit", function () {
      document.getElementById("poll-questions").value = JSON.stringify(serialized());
    });
  }

  // --- the preview --------------------------------------------------------------------------------------

  var preview = document.getElementById("poll-preview-body");

  function typed(id) {
    var node = document.getElementById(id);
    return node ? node.value : null;
  }

  function previewQuestion(question) {
    var name = "pv-" + question.id;
    var box = el("div", { className: "sc-pv-question", "data-preview-question": question.id });
    if (question.type === "text") {
      box.appendChild(el("h3", { className: "sc-pv-heading", text: question.title }));
      if (question.description) { box.appendChild(el("p", { className: "text-secondary mb-0", text: question.description })); }
      return box;
    }
    box.appendChild(el("div", { className: "sc-pv-title" }, [question.title || T.untitled, question.required ? el("span", { className: "text-danger ms-1", title: T.required_mark, text: "*" }) : null]));
    if (question.description) { box.appendChild(el("div", { className: "text-secondary small mb-2", text: question.description })); }
    if (question.type === "single" || question.type === "multiple") {
      if (question.max_choices) { box.appendChild(el("div", { className: "text-secondary small mb-2", text: numbered(T.choose_up_to, question.max_choices) })); }
      question.options.forEach(function (option) {
        box.appendChild(el("label", { className: "form-check sc-pv-option" }, [
          el("input", { type: question.type === "single" ? "radio" : "checkbox", className: "form-check-input", name: name, value: option.id }),
          el("span", { className: "form-check-label", text: option.label })
        ]));
      });
    } else if (question.type === "matrix") {
      box.appendChild(previewMatrix(question, name));
    } else {
      box.appendChild(el("textarea", { className: "form-control", rows: "3", name: name, placeholder: T.your_answer }));
    }
    box.appendChild(el("div", { className: "invalid-feedback", "data-preview-missing": true, text: T.answer_required }));
    return box;
  }

  function previewMatrix(question, name) {
    var head = el("tr", {}, [el("th")].concat(question.options.map(function (o) { return el("th", { className: "text-center small", text: o.label }); })));
    var rows = question.rows.map(function (row) {
      return el("tr", {}, [el("td", { text: row.label })].concat(question.options.map(function (o) {
        return el("td", { className: "text-center" }, [el("input", { type: "radio", className: "form-check-input", name: name + "-" + row.id, value: o.id, "data-row": row.id, "aria-label": row.label + ": " + o.label })]);
      })));
    });
    return el("div", { className: "table-responsive" }, [el("table", { className: "table table-sm sc-pv-matrix mb-0" }, [el("thead", {}, [head]), el("tbody", {}, rows)])]);
  }

  function previewAnswers(list) {
    var answers = {};
    list.forEach(function (q) {
      var name = "pv-" + q.id;
      if (q.type === "single") {
        var picked = preview.querySelector('input[name="' + name + '"]:checked');
        if (picked) { answers[q.id] = picked.value; }
      } else if (q.type === "multiple") {
        var ticked = Array.prototype.map.call(preview.querySelectorAll('input[name="' + name + '"]:checked'), function (i) { return i.value; });
        if (ticked.length) { answers[q.id] = ticked; }
      } else if (q.type === "matrix") {
        var cells = {};
        preview.querySelectorAll('[data-preview-question="' + q.id + '"] input[data-row]:checked').forEach(function (i) { cells[i.dataset.row] = i.value; });
        if (Object.keys(cells).length) { answers[q.id] = cells; }
      } else if (q.type === "open") {
        var text = preview.querySelector('textarea[name="' + name + '"]');
        if (text && text.value.trim()) { answers[q.id] = text.value.trim(); }
      }
    });
    return answers;
  }

  function applyLogic(list) {
    var shown = visibleIds(list, previewAnswers(list));
    var any = false;
    list.forEach(function (q) {
      var box = preview.querySelector('[data-preview-question="' + q.id + '"]');
      box.hidden = !shown[q.id];
      any = any || !box.hidden;
      var limit = q.type === "multiple" && q.max_choices;
      if (limit) {
        var boxes = box.querySelectorAll("input");
        var ticked = box.querySelectorAll("input:checked").length;
        boxes.forEach(function (input) { input.disabled = !input.checked && ticked >= limit; });
      }
    });
    preview.querySelector("[data-preview-none]").hidden = any;
    return shown;
  }

  function sendPreview(list) {
    var shown = applyLogic(list);
    var answers = previewAnswers(list);
    var missing = list.filter(function (q) { return shown[q.id] && q.required && !complete(q, answers[q.id]); });
    list.forEach(function (q) {
      var box = preview.querySelector('[data-preview-question="' + q.id + '"]');
      box.classList.toggle("sc-pv-missing", missing.indexOf(q) !== -1);
    });
    if (missing.length) {
      preview.querySelector('[data-preview-question="' + missing[0].id + '"]').scrollIntoView({ block: "center" });
      return;
    }
    var thanks = typed("f-thank_you") !== null ? typed("f-thank_you") : data.poll.thank_you;
    preview.textContent = "";
    preview.appendChild(el("div", { className: "sc-pv-thanks text-center", "data-preview-thanks": true }, [
      el("div", { className: "sc-pv-thanks-icon" }, [icon("ti-circle-check")]),
      el("p", { className: "fs-3 mb-1", text: (thanks || "").trim() || T.thanks_default }),
      el("p", { className: "text-secondary small mb-0", text: T.preview_note })
    ]));
  }

  function complete(question, answer) {
    if (answer === undefined) { return false; }
    if (question.type === "matrix") { return question.rows.every(function (row) { return answer[row.id]; }); }
    return true;
  }

  function renderPreview() {
    if (!preview) { return; }
    var list = JSON.parse(JSON.stringify(container ? serialized() : questions));
    var name = typed("f-name") !== null ? typed("f-name") : data.poll.name;
    var about = typed("f-description") !== null ? typed("f-description") : data.poll.description;
    preview.textContent = "";
    preview.appendChild(el("h2", { className: "sc-pv-name", text: name || T.untitled_poll }));
    if (about) { preview.appendChild(el("p", { className: "text-secondary", text: about })); }
    list.forEach(function (q) { preview.appendChild(previewQuestion(q)); });
    preview.appendChild(el("div", { className: "text-secondary", "data-preview-none": true, hidden: true, text: T.all_hidden }));
    var send = el("button", { type: "button", className: "btn btn-primary w-100 mt-2", id: "preview-send", text: T.send });
    preview.appendChild(send);
    preview.onchange = function () { applyLogic(list); };
    preview.oninput = function () { applyLogic(list); };
    send.addEventListener("click", function () { sendPreview(list); });
    applyLogic(list);
  }

  var modal = document.getElementById("poll-preview");
  if (modal) { modal.addEventListener("show.bs.modal", renderPreview); }
  var restart = document.getElementById("preview-restart");
  if (restart) { restart.addEventListener("click", renderPreview); }

  if (container && !data.readonly) { startEditor(); }
})();
