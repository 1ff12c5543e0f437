// smartcomm: the visual e-mail editor — GrapesJS with its MJML plugin, both from npm. The MJML it makes
// goes into the form's hidden `mjml` field when the form is sent; the server compiles it with MRML.
// The editor's own texts follow the user's language (GrapesJS's Russian catalog, and ours for the
// MJML plugin, which ships none).
(function () {
  "use strict";

  var MJML_RU = {
    "grapesjs-mjml": {
      category: "",
      panels: {
        buttons: { undo: "Отменить", redo: "Повторить", desktop: "Компьютер", tablet: "Планшет", mobile: "Телефон", "import": "Импорт MJML" },
        "import": { title: "Импорт MJML", button: "Импортировать", label: "" },
        "export": { title: "Код MJML" }
      },
      components: {
        names: {
          body: "Письмо", button: "Кнопка", column: "Колонка", oneColumn: "1 колонка", twoColumn: "2 колонки",
          threeColumn: "3 колонки", divider: "Разделитель", group: "Группа", hero: "Обложка", image: "Картинка",
          navBar: "Меню", navLink: "Пункт меню", section: "Секция", socialGroup: "Соцсети", socialElement: "Соцсеть",
          spacer: "Отступ", text: "Текст", wrapper: "Обёртка", raw: "Код (теги шаблона)"
        }
      }
    }
  };
  // A grey picture drawn in place of an image block's address until one is given (no outside request).
  var PLACEHOLDER = "data:image/svg+xml," + encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300"><rect width="600" height="300" fill="#e5e7eb"/>' +
    '<path d="M250 190l40-50 30 36 20-24 60 38H250z" fill="#9ca3af"/><circle cx="275" cy="120" r="16" fill="#9ca3af"/></svg>'
  );

  // The visual editor escapes ">", "<" and "&" in texts; inside template tags they must stay themselves.
  function unescapeTags(mjml) {
    return mjml.replace(/\{[{%#][\s\S]*?[}%#]\}/g, function (tag) {
      return tag.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
    });
  }

  function start(root, source, messages) {
    var plugin = window["grapesjs-mjml"];
    plugin = plugin && plugin["default"] ? plugin["default"] : plugin;
    var language = root.getAttribute("data-locale") === "ru" ? "ru" : "en";
    var pluginOptions = {
      i18n: language === "ru" ? { ru: MJML_RU } : {},
      imagePlaceholderSrc: PLACEHOLDER
    };
    var editor = window.grapesjs.init({
      container: root,
      height: "max(640px, calc(100vh - 16rem))",
      fromElement: false,
      components: source.value,
      storageManager: false,
      telemetry: false,  // no call home: the product works on a network with no internet
      cssIcons: "/vendor/font-awesome/css/font-awesome.min.css",  // from npm, not from a CDN
      assetManager: { upload: false },
      i18n: { locale: language, localeFallback: "en", detectLocale: false, messages: messages },
      plugins: [function (instance) { return plugin(instance, pluginOptions); }]
    });
    source.form.addEventListener("submit", function () { source.value = unescapeTags(editor.getHtml()); });
    window.smartcommVisualEditor = editor;
    editor.on("load", function () {
      // Open on the blocks, the first thing a designer reaches for.
      var blocks = editor.Panels.getButton("views", "open-blocks");
      if (blocks) { blocks.set("active", true); }
      root.setAttribute("data-ready", "true");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("gjs");
    var source = document.getElementById("f-mjml");
    if (!root || !source || !window.grapesjs) { return; }
    if (root.getAttribute("data-locale") === "ru") {
      import("/vendor/grapesjs-locale/ru.mjs")
        .then(function (module) { start(root, source, { ru: module["default"] }); })
        .catch(function () { start(root, source, {}); });
    } else {
      start(root, source, {});
    }
  });
})();
