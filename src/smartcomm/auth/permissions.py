"""Roles and the permission matrix: the one place that says who may do what.

Every UI route and API endpoint declares one `Permission`; the matrix below grants permissions to
roles. A test walks every route for every role against this table.
"""

from __future__ import annotations

from enum import StrEnum

from smartcomm.kit.i18n import LazyString, lazy


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    SENIOR_MARKETER = "senior_marketer"
    MARKETER = "marketer"
    ANALYST = "analyst"
    DESIGNER = "designer"
    OPERATOR = "operator"
    API = "api"

    @property
    def label(self) -> LazyString:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, LazyString] = {
    Role.ADMINISTRATOR: lazy("Administrator"),
    Role.SENIOR_MARKETER: lazy("Senior marketer"),
    Role.MARKETER: lazy("Marketer"),
    Role.ANALYST: lazy("Analyst"),
    Role.DESIGNER: lazy("Designer"),
    Role.OPERATOR: lazy("Operator"),
    Role.API: lazy("API"),
}


class Permission(StrEnum):
    # Every signed-in staff user: own account page.
    ACCOUNT = "account"
    # The Summary dashboard, and asking for its recomputation (analysis only: nothing else changes).
    DASHBOARD_VIEW = "dashboard.view"
    DASHBOARD_RECOMPUTE = "dashboard.recompute"
    CUSTOMERS_VIEW = "customers.view"
    CUSTOMERS_EDIT_CONTACTS = "customers.edit_contacts"
    CUSTOMERS_IMPORT = "customers.import"
    CUSTOMERS_EXPORT = "customers.export"
    SEGMENTS_VIEW = "segments.view"
    SEGMENTS_EDIT = "segments.edit"
    AUDIENCES_VIEW = "audiences.view"
    AUDIENCES_EDIT = "audiences.edit"
    RFM_VIEW = "rfm.view"
    RFM_RUN = "rfm.run"
    # Message templates: viewing and previewing them (Marketers use them), and editing (Designers).
    TEMPLATES_VIEW = "templates.view"
    TEMPLATES_EDIT = "templates.edit"
    # The look of the customer-facing pages (Settings → Design): administrators and designers.
    DESIGN_EDIT = "design.edit"
    # The Outbox and the customer's communications: every role that sends or supports customers; and the
    # sandbox's simulated delivery, opens and clicks (not the read-only Analyst).
    MESSAGES_VIEW = "messages.view"
    MESSAGES_SIMULATE = "messages.simulate"
    # Mass mailings: seeing them, preparing drafts, and launching — starting, pausing, resuming and
    # cancelling a send (Senior marketers; a Marketer prepares).
    MAILINGS_VIEW = "mailings.view"
    MAILINGS_EDIT = "mailings.edit"
    MAILINGS_LAUNCH = "mailings.launch"
    # Promo codes and polls: seeing groups, codes, polls and their reports; and changing them (adding and
    # generating codes, redeeming, blocking; editing polls).
    # Trigger campaigns: seeing them and their reports, editing drafts, and activating or suspending
    # (Senior marketers, like launching a mailing).
    CAMPAIGNS_VIEW = "campaigns.view"
    CAMPAIGNS_EDIT = "campaigns.edit"
    CAMPAIGNS_ACTIVATE = "campaigns.activate"
    PROMOCODES_VIEW = "promocodes.view"
    PROMOCODES_EDIT = "promocodes.edit"
    POLLS_VIEW = "polls.view"
    POLLS_EDIT = "polls.edit"
    # Awarding points and asking the loyalty system for bonuses by hand on a customer's profile (Senior
    # marketers): both give customers something of value.
    LOYALTY_OPERATE = "loyalty.operate"
    # The global control group (Settings → Global control group): seeing its settings, draws and report;
    # and changing how it is formed, drawing it now and uploading it (marketers run effect measurement).
    CONTROL_GROUPS_VIEW = "control_groups.view"
    CONTROL_GROUPS_EDIT = "control_groups.edit"
    SETTINGS_VIEW = "settings.view"
    SETTINGS_EDIT = "settings.edit"
    USERS_MANAGE = "users.manage"
    AUDIT_VIEW = "audit.view"
    # REST API (only the API role can obtain a token).
    API_READ = "api.read"
    API_WRITE = "api.write"


_MARKETER = frozenset(
    {
        Permission.ACCOUNT,
        Permission.DASHBOARD_VIEW,
        Permission.DASHBOARD_RECOMPUTE,
        Permission.CUSTOMERS_VIEW,
        Permission.CUSTOMERS_EXPORT,
        Permission.SEGMENTS_VIEW,
        Permission.SEGMENTS_EDIT,
        Permission.AUDIENCES_VIEW,
        Permission.AUDIENCES_EDIT,
        Permission.RFM_VIEW,
        Permission.RFM_RUN,
        Permission.TEMPLATES_VIEW,
        Permission.MESSAGES_VIEW,
        Permission.MESSAGES_SIMULATE,
        Permission.MAILINGS_VIEW,
        Permission.MAILINGS_EDIT,
        Permission.CAMPAIGNS_VIEW,
        Permission.CAMPAIGNS_EDIT,
        Permission.PROMOCODES_VIEW,
        Permission.PROMOCODES_EDIT,
        Permission.POLLS_VIEW,
        Permission.POLLS_EDIT,
        Permission.CONTROL_GROUPS_VIEW,
        Permission.CONTROL_GROUPS_EDIT,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(p for p in Permission if not p.startswith("api.")),
    Role.SENIOR_MARKETER: _MARKETER
    | {Permission.MAILINGS_LAUNCH, Permission.CAMPAIGNS_ACTIVATE, Permission.LOYALTY_OPERATE},
    Role.MARKETER: _MARKETER,
    Role.ANALYST: frozenset(
        {
            Permission.ACCOUNT,
            Permission.DASHBOARD_VIEW,
            Permission.DASHBOARD_RECOMPUTE,
            Permission.CUSTOMERS_VIEW,
            Permission.CUSTOMERS_EXPORT,
            Permission.SEGMENTS_VIEW,
            Permission.AUDIENCES_VIEW,
            Permission.RFM_VIEW,
            Permission.TEMPLATES_VIEW,
            Permission.MESSAGES_VIEW,
            Permission.MAILINGS_VIEW,
            Permission.CAMPAIGNS_VIEW,
            Permission.PROMOCODES_VIEW,
            Permission.POLLS_VIEW,
            Permission.CONTROL_GROUPS_VIEW,
        }
    ),
    Role.DESIGNER: frozenset(
        {Permission.ACCOUNT, Permission.TEMPLATES_VIEW, Permission.TEMPLATES_EDIT, Permission.DESIGN_EDIT}
    ),
    Role.OPERATOR: frozenset(
        {
            Permission.ACCOUNT,
            Permission.CUSTOMERS_VIEW,
            Permission.CUSTOMERS_EDIT_CONTACTS,
            Permission.MESSAGES_VIEW,
            Permission.MESSAGES_SIMULATE,
        }
    ),
    # Integrations read and write through the API; they may also prepare and launch mailings (an ERP or a
    # CMS starting a campaign), build and activate trigger campaigns, and form the global control group
    # (read its report, change its settings, draw or upload it), which the staff roles do in the interface.
    Role.API: frozenset(
        {
            Permission.API_READ,
            Permission.API_WRITE,
            Permission.MAILINGS_VIEW,
            Permission.MAILINGS_EDIT,
            Permission.MAILINGS_LAUNCH,
            Permission.CAMPAIGNS_VIEW,
            Permission.CAMPAIGNS_EDIT,
            Permission.CAMPAIGNS_ACTIVATE,
            Permission.CONTROL_GROUPS_VIEW,
            Permission.CONTROL_GROUPS_EDIT,
        }
    ),
}


def role_allows(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def can_use_interface(role: str) -> bool:
    return role != Role.API
