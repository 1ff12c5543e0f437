"""The product menu, in the product's order. A role sees only the entries its permissions open.

Only pages that exist are listed: a section appears once it has at least one page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.i18n import LazyString, lazy


@dataclass(frozen=True)
class MenuItem:
    label: LazyString
    url: str
    permission: Permission
    # A module switched in the settings: the name of the GeneralSettings flag that shows the entry.
    module: str | None = None


@dataclass(frozen=True)
class MenuSection:
    key: str
    label: LazyString
    icon: str
    items: tuple[MenuItem, ...]
    # Pages under this path belong to the section even when no entry's address starts their path
    # (a template's editor, /templates/12/edit, is in Templates though no entry is /templates/12).
    prefix: str | None = None


@dataclass
class VisibleSection:
    section: MenuSection
    items: list[MenuItem]
    active: bool = False
    active_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.items[0].url


MENU: tuple[MenuSection, ...] = (
    # First: where the roles that analyse the base land after signing in.
    MenuSection(
        "dashboard",
        lazy("Summary"),
        "ti-layout-dashboard",
        (MenuItem(lazy("Summary dashboard"), "/dashboard", Permission.DASHBOARD_VIEW),),
    ),
    MenuSection(
        "customers",
        lazy("Customers"),
        "ti-users",
        (
            MenuItem(lazy("All customers"), "/customers", Permission.CUSTOMERS_VIEW),
            MenuItem(lazy("Orders"), "/orders", Permission.CUSTOMERS_VIEW, module="orders_enabled"),
            MenuItem(lazy("Segments"), "/segments", Permission.SEGMENTS_VIEW),
            MenuItem(lazy("RFM segments"), "/rfm", Permission.RFM_VIEW),
            MenuItem(lazy("Target audiences"), "/audiences", Permission.AUDIENCES_VIEW),
            MenuItem(lazy("Data import"), "/imports", Permission.CUSTOMERS_IMPORT),
            MenuItem(lazy("Contact data quality"), "/customers/contact-quality", Permission.CUSTOMERS_VIEW),
        ),
    ),
    MenuSection(
        "campaigns",
        lazy("Campaigns"),
        "ti-route",
        (MenuItem(lazy("Campaigns"), "/campaigns", Permission.CAMPAIGNS_VIEW),),
        prefix="/campaigns/",
    ),
    MenuSection(
        "mailings",
        lazy("Mass messaging"),
        "ti-speakerphone",
        (
            MenuItem(lazy("E-mail"), "/mailings/email", Permission.MAILINGS_VIEW),
            MenuItem(lazy("SMS"), "/mailings/sms", Permission.MAILINGS_VIEW),
            MenuItem(lazy("Push"), "/mailings/push", Permission.MAILINGS_VIEW),
            MenuItem(lazy("Calendar"), "/mailings/calendar", Permission.MAILINGS_VIEW),
        ),
        prefix="/mailings/",
    ),
    MenuSection(
        "promocodes",
        lazy("Promo codes"),
        "ti-ticket",
        (MenuItem(lazy("Promo code groups"), "/promocodes", Permission.PROMOCODES_VIEW),),
        prefix="/promocodes/",
    ),
    MenuSection(
        "polls",
        lazy("Polls"),
        "ti-checklist",
        (MenuItem(lazy("Polls"), "/polls", Permission.POLLS_VIEW),),
        prefix="/polls/",
    ),
    MenuSection(
        "messages",
        lazy("Messages"),
        "ti-send",
        (MenuItem(lazy("Outbox"), "/outbox", Permission.MESSAGES_VIEW),),
    ),
    MenuSection(
        "templates",
        lazy("Templates"),
        "ti-template",
        (
            MenuItem(lazy("E-mail"), "/templates/email", Permission.TEMPLATES_VIEW),
            MenuItem(lazy("SMS"), "/templates/sms", Permission.TEMPLATES_VIEW),
            MenuItem(lazy("Viber"), "/templates/viber", Permission.TEMPLATES_VIEW),
            MenuItem(lazy("Push"), "/templates/push", Permission.TEMPLATES_VIEW),
        ),
        prefix="/templates/",
    ),
    MenuSection(
        "settings",
        lazy("Settings"),
        "ti-settings",
        (
            MenuItem(lazy("General"), "/settings/general", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Fields"), "/settings/fields", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Dictionaries"), "/settings/dictionaries", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Mailing categories"), "/settings/mailing-categories", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Classifiers"), "/settings/classifiers", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Event sources"), "/settings/event-sources", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Containers"), "/settings/containers", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Order statuses"), "/settings/order-statuses", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Channels"), "/settings/channels", Permission.SETTINGS_VIEW),
            MenuItem(lazy("Design"), "/settings/design", Permission.DESIGN_EDIT),
            MenuItem(lazy("Watchers"), "/settings/watchers", Permission.SETTINGS_VIEW),
            MenuItem(
                lazy("Global control group"), "/settings/global-control", Permission.CONTROL_GROUPS_VIEW
            ),
            MenuItem(lazy("Users"), "/settings/users", Permission.USERS_MANAGE),
            MenuItem(lazy("Action history"), "/settings/history", Permission.AUDIT_VIEW),
        ),
    ),
)


def visible_menu(principal: Principal, path: str, settings: object = None) -> list[VisibleSection]:
    """Sections and entries this user may open, with the one holding `path` marked active; entries of a
    module are shown while its flag in `settings` (the general settings) is on."""
    visible: list[VisibleSection] = []
    for section in MENU:
        items = [item for item in section.items if _shown(item, principal, settings)]
        if not items:
            continue
        active_item = max(
            (i for i in items if path.startswith(i.url)), key=lambda i: len(i.url), default=None
        )
        active = active_item is not None or bool(section.prefix and path.startswith(section.prefix))
        visible.append(VisibleSection(section, items, active, active_item.url if active_item else None))
    return visible


def _shown(item: MenuItem, principal: Principal, settings: object) -> bool:
    module_on = item.module is None or bool(getattr(settings, item.module, False))
    return module_on and principal.can(item.permission)


def landing_url(principal: Principal) -> str:
    """Where a user lands after signing in: the first page of the first section they may open."""
    menu = visible_menu(principal, "")
    return menu[0].url if menu else "/account"
