"""The project settings analytics.js fetches at start-up (`<cdn>/v1/projects/<writeKey>/settings`).

Segment's CDN normally answers them; smartcomm serves them itself, with one destination only — the
Segment.io one, pointed at smartcomm's own intake (`apiHost`, `protocol`) and posting batches with the
source's write key (`apiKey`). No other destination, middleware or remote plugin is listed, so the
library loads nothing else, and its usage metrics (`/m`) are off.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from smartcomm.models import EventSource

# A batch leaves the browser when it holds this many calls, this long after its first, or as the page closes.
BATCH_SIZE = 20
BATCH_MS = 2000


def project_settings(source: EventSource, base_url: str) -> dict[str, Any]:
    """The settings document for the source; `base_url` is the address the browser reached smartcomm at
    (its intake is `<base_url>/v1`)."""
    address = urlsplit(base_url)
    api_host = f"{address.netloc}{address.path.rstrip('/')}/v1"
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": source.write_key,
                "apiHost": api_host,
                "protocol": address.scheme or "https",
                "unbundledIntegrations": [],
                "addBundledMetadata": True,
                "maybeBundledConfigIds": {},
                "versionSettings": {"version": "4.4.7", "componentTypes": ["browser"]},
                # In batches: one request for up to 20 calls, in the order they were made (sent one by
                # one, a page's calls race each other: a quick add-then-remove could arrive reversed).
                "deliveryStrategy": {
                    "strategy": "batching",
                    "config": {"size": BATCH_SIZE, "timeout": BATCH_MS},
                },
            }
        },
        "plan": {
            "track": {"__default": {"enabled": True, "integrations": {}}},
            "identify": {"__default": {"enabled": True}},
            "group": {"__default": {"enabled": True}},
        },
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }
