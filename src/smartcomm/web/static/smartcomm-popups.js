/*
 * smartcomm pop-ups on the shop's pages. Once analytics.js is ready, asks smartcomm for the pending pop-ups
 * of this visitor and shows the first one as a small modal; reports when it was shown, when its button was
 * clicked and when it was closed.
 *
 *   <script src="https://smartcomm.example.com/static/smartcomm-popups.js" data-write-key="WRITE_KEY" defer></script>
 *
 * Everything is built with DOM calls and textContent (no HTML from the server is ever parsed), and styled
 * through element.style, which a shop's Content-Security-Policy does not block.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/static\/smartcomm-popups\.js(\?.*)?$/, "");
  var writeKey = script.getAttribute("data-write-key");
  var COLOR = script.getAttribute("data-color") || "#206bc4";
  if (!writeKey) {
    if (window.console) console.warn("smartcomm pop-ups: data-write-key is missing on the script tag.");
    return;
  }

  function visitor() {
    var analytics = window.analytics;
    if (!analytics || typeof analytics.user !== "function") return null;
    var user = analytics.user();
    var anonymousId = user.anonymousId();
    if (!anonymousId) return null;
    return { writeKey: writeKey, anonymousId: anonymousId, userId: user.id() || undefined };
  }

  function report(popup, action, who) {
    // A plain-text body keeps this a simple request; keepalive lets a click's report outlive the page.
    return fetch(base + "/v1/popups/" + popup.id + "/" + action, {
      method: "POST",
      body: JSON.stringify(who),
      keepalive: true,
    }).catch(function () {});
  }

  function style(element, rules) {
    for (var name in rules) element.style[name] = rules[name];
    return element;
  }

  function element(tag, rules, text) {
    var node = style(document.createElement(tag), rules);
    if (text) node.textContent = text;
    return node;
  }

  function isWebAddress(value) {
    return typeof value === "string" && /^https?:\/\//i.test(value);
  }

  function show(popup, who) {
    var overlay = element("div", {
      position: "fixed", inset: "0", background: "rgba(15, 23, 42, 0.45)", zIndex: "2147483000",
      display: "flex", alignItems: "center", justifyContent: "center", padding: "16px",
    });
    overlay.className = "smartcomm-popup";
    var box = element("div", {
      position: "relative", background: "#fff", color: "#1d273b", borderRadius: "12px", maxWidth: "420px",
      width: "100%", padding: "24px", boxShadow: "0 16px 48px rgba(0, 0, 0, 0.25)", textAlign: "center",
      fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", boxSizing: "border-box",
    });
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    var title = element("h2", { margin: "0 0 12px", fontSize: "20px", lineHeight: "1.3" }, popup.title);
    title.id = "smartcomm-popup-title-" + popup.id;
    box.setAttribute("aria-labelledby", title.id);
    var close = element("button", {
      position: "absolute", top: "8px", right: "10px", border: "0", background: "transparent",
      fontSize: "24px", lineHeight: "1", cursor: "pointer", color: "#6b7280", padding: "4px",
    }, "\u00d7");
    close.type = "button";
    close.className = "smartcomm-popup-close";
    close.setAttribute("aria-label", "Close");
    box.appendChild(close);
    if (isWebAddress(popup.image_url)) {
      var image = element("img", { maxWidth: "100%", borderRadius: "8px", margin: "0 0 16px" });
      image.src = popup.image_url;
      image.alt = "";
      box.appendChild(image);
    }
    box.appendChild(title);
    if (popup.body) {
      box.appendChild(element("p", { margin: "0 0 20px", fontSize: "15px", lineHeight: "1.5", whiteSpace: "pre-line" }, popup.body));
    }
    var closed = false;
    function dismiss() {
      if (closed) return;
      closed = true;
      overlay.remove();
      document.removeEventListener("keydown", onKey);
      report(popup, "dismissed", who);
    }
    function onKey(event) {
      if (event.key === "Escape") dismiss();
    }
    if (popup.button_text && isWebAddress(popup.button_url)) {
      var button = element("a", {
        display: "inline-block", background: COLOR, color: "#fff", textDecoration: "none",
        padding: "10px 20px", borderRadius: "6px", fontWeight: "600", fontSize: "15px",
      }, popup.button_text);
      button.href = popup.button_url;
      button.className = "smartcomm-popup-button";
      button.addEventListener("click", function () {
        closed = true;
        report(popup, "clicked", who);
      });
      box.appendChild(button);
    }
    close.addEventListener("click", dismiss);
    overlay.addEventListener("click", function (event) {
      if (event.target === overlay) dismiss();
    });
    document.addEventListener("keydown", onKey);
    overlay.appendChild(box);
    document.body.appendChild(overlay);
    report(popup, "shown", who);
  }

  function askForPopups() {
    var who = visitor();
    if (!who) return;
    var query = "writeKey=" + encodeURIComponent(who.writeKey) + "&anonymousId=" + encodeURIComponent(who.anonymousId);
    if (who.userId) query += "&userId=" + encodeURIComponent(who.userId);
    fetch(base + "/v1/popups?" + query)
      .then(function (response) { return response.ok ? response.json() : { popups: [] }; })
      .then(function (answer) {
        if (answer.popups && answer.popups.length) show(answer.popups[0], who);
      })
      .catch(function () {});
  }

  if (!window.analytics || typeof window.analytics.ready !== "function") return;
  window.analytics.ready(function () {
    // The library replaces the stub once it is loaded; let it finish first.
    setTimeout(askForPopups, 0);
  });
})();
