/*
 * The loader of smartcomm's site tracker: Segment's standard analytics.js snippet, pointed at smartcomm.
 *
 * It is the stub every analytics.js page starts with (window.analytics queues calls until the library
 * arrives), except that the library is the stock @segment/analytics-next build served by smartcomm, and
 * smartcomm is its "CDN": the project settings (/v1/projects/<writeKey>/settings) and the library's lazy
 * parts (/analytics-next/bundles/) come from the server this file was loaded from, and the settings send
 * every call to that server's Segment-compatible intake (/v1). Nothing is loaded from Segment.
 *
 * On the shop's pages:
 *   <script src="https://smartcomm.example.com/static/smartcomm-tracker.js"></script>
 *   <script>analytics.load("WRITE_KEY"); analytics.page();</script>
 */
(function () {
  "use strict";
  var script = document.currentScript;
  // The server this loader came from (with its path prefix, if smartcomm is served below one).
  var base = script ? script.src.replace(/\/static\/smartcomm-tracker\.js(\?.*)?$/, "") : "";
  var analytics = (window.analytics = window.analytics || []);
  if (analytics.initialize) return; // the library runs already
  if (analytics.invoked) {
    if (window.console && console.error) console.error("The smartcomm tracker is included twice.");
    return;
  }
  analytics.invoked = true;
  analytics.methods = [
    "trackSubmit", "trackClick", "trackLink", "trackForm", "pageview", "identify", "reset", "group",
    "track", "ready", "alias", "debug", "page", "screen", "once", "off", "on", "addSourceMiddleware",
    "addIntegrationMiddleware", "setAnonymousId", "addDestinationMiddleware", "register",
  ];
  // Calls that need the page as it was when they were made (the library adds it when it runs them).
  var withPageContext = ["track", "screen", "alias", "group", "page", "identify"];

  function pageContext() {
    var canonical = document.querySelector("link[rel='canonical']");
    return {
      __t: "bpc",
      c: (canonical && canonical.getAttribute("href")) || undefined,
      p: location.pathname,
      u: location.href,
      s: location.search,
      t: document.title,
      r: document.referrer,
    };
  }

  analytics.factory = function (method) {
    return function () {
      if (window.analytics.initialized) {
        return window.analytics[method].apply(window.analytics, arguments);
      }
      var args = Array.prototype.slice.call(arguments);
      if (withPageContext.indexOf(method) > -1) args.push(pageContext());
      args.unshift(method);
      analytics.push(args);
      return analytics;
    };
  };
  for (var i = 0; i < analytics.methods.length; i++) {
    var name = analytics.methods[i];
    analytics[name] = analytics.factory(name);
  }

  analytics.load = function (writeKey, options) {
    analytics._writeKey = writeKey;
    analytics._cdn = base; // settings, lazy parts and (through the settings) the intake
    analytics._loadOptions = options;
    var library = document.createElement("script");
    library.async = true;
    library.src = base + "/vendor/analytics-next/standalone.js";
    var first = document.getElementsByTagName("script")[0];
    first.parentNode.insertBefore(library, first);
  };
  analytics.SNIPPET_VERSION = "5.2.1";
})();
