// smartcomm: starts Swagger UI on /api/docs (a file of its own: the page allows no inline script).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    // No call to the public validator service: the documentation must work on a closed network.
    validatorUrl: null,
    // A box above the operations that narrows them to the tags whose name holds what is typed.
    filter: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
