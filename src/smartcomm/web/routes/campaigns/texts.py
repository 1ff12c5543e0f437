"""The words the canvas script shows, translated on the server (the script has no catalogue of its own).

Counted words come in the three forms Russian needs (one, few, many — English uses the first two), so the
script only picks a form for the number.
"""

from __future__ import annotations

from typing import Any

from smartcomm.kit.i18n import LazyString, lazy, ngettext

TEXTS: dict[str, LazyString] = {
    "save": lazy("Save"),
    "saving": lazy("Saving…"),
    "saved": lazy("Saved"),
    "unsaved": lazy("Unsaved changes"),
    "leave": lazy("The canvas has unsaved changes. Leave without saving?"),
    "save_failed": lazy("The canvas was not saved: try again."),
    "no_problems": lazy("No problems: the campaign can be activated"),
    "problems_title": lazy("Problems"),
    "graph_problem": lazy("The campaign"),
    "edit": lazy("Edit"),
    "copy": lazy("Copy"),
    "paste": lazy("Paste"),
    "delete": lazy("Delete"),
    "delete_connection": lazy("Delete the connection"),
    "copied": lazy("The node was copied: paste it with Ctrl+V, here or in another campaign."),
    "pasted": lazy("The node was pasted."),
    "one_trigger": lazy("A campaign starts with exactly one trigger: remove this one first."),
    "nothing_to_paste": lazy("Nothing to paste: copy a node with Ctrl+C first."),
    "settings": lazy("Settings"),
    "close": lazy("Close"),
    "read_only": lazy("Read-only"),
    "none": lazy("Not chosen"),
    "every_customer": lazy("Every customer"),
    "choose_campaign_first": lazy("Choose the campaign first"),
    "choose_template": lazy("Choose a template"),
    "no_templates": lazy("There are no templates of this channel yet."),
    "preview": lazy("Preview"),
    "open_template": lazy("Open the template"),
    "newer_version": lazy("A newer version of this template exists: v%(number)s."),
    "add_value": lazy("Add a value"),
    "key": lazy("Name"),
    "value": lazy("Value"),
    "remove": lazy("Remove"),
    "tags_hint": lazy("Separate values with commas."),
    "json_hint": lazy("JSON"),
    "json_invalid": lazy("This is not valid JSON."),
    "required": lazy("Required"),
    "loading": lazy("Loading…"),
    "entered": lazy("entered"),
    "waiting": lazy("waiting here"),
    "stopped": lazy("stopped"),
    "figures": lazy("Funnel numbers"),
    "zoom_in": lazy("Zoom in"),
    "zoom_out": lazy("Zoom out"),
    "zoom_reset": lazy("Fit to the window"),
    "trigger": lazy("Trigger"),
    "module_off": lazy("Switch on the module this node needs in Settings."),
    "drag_hint": lazy("Drag onto the canvas, or click to add"),
    "search": lazy("Find a trigger or an action"),
    "activated": lazy("The campaign is active."),
    "activation_refused": lazy("The campaign has problems: fix them before activating"),
    "settings_saved": lazy("The settings were saved."),
    "settings_refused": lazy("The settings were not saved: correct the marked fields."),
    "node_id": lazy("Node"),
    "hour": lazy("%(hour)s:00"),
    "yes": lazy("yes"),
    "no": lazy("no"),
}
FORMS = (1, 2, 5)  # a number of each Russian plural form: one, few, many


def editor_texts() -> dict[str, Any]:
    texts: dict[str, Any] = {key: str(text) for key, text in TEXTS.items()}
    texts["problems"] = [ngettext("%(num)s problem", "%(num)s problems", n) for n in FORMS]
    return texts
