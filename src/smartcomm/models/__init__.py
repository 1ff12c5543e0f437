"""Every ORM model of the product, re-exported so that Alembic and the services see one metadata."""

from smartcomm.kit.models import Base
from smartcomm.models.attribution import AttributedReceipt
from smartcomm.models.audit import AuditEntry
from smartcomm.models.campaigns import (
    Campaign,
    CampaignMessage,
    CampaignNodeCounter,
    CampaignNodeStat,
    CampaignVersion,
    Journey,
)
from smartcomm.models.catalog import Category, Classifier, Product, Store
from smartcomm.models.channels import ChannelProvider
from smartcomm.models.consent import EmailConfirmation, UnsubscribeRecord, WatcherGroup
from smartcomm.models.containers import Container, ContainerItem, ContainerState
from smartcomm.models.control_groups import GlobalControlDraw, GlobalControlMember
from smartcomm.models.customers import Customer, PushToken, Subscription
from smartcomm.models.dashboard import DashboardSnapshot
from smartcomm.models.data_settings import Dictionary, DictionaryItem, FieldDefinition, MailingCategory
from smartcomm.models.delivery import Message, MessageContent, MessageEvent, TrackedLink
from smartcomm.models.domain_events import DomainEvent, EventCheckpoint, WebhookDelivery
from smartcomm.models.events import Event, EventSource, Visitor, WebEvent, WebSession
from smartcomm.models.intake import IdempotencyRecord, ImportJob
from smartcomm.models.loyalty import BonusExpiration, LoyaltyAccount, LoyaltyRequest, PointsEntry
from smartcomm.models.mailings import Mailing, MailingAssignment, MailingControlMember
from smartcomm.models.notifications import Notification
from smartcomm.models.orders import Order, OrderLine, OrderStatus, OrderStatusChange
from smartcomm.models.polls import Poll, PollAnswer, PollInvitation, PollResponse
from smartcomm.models.popups import Popup
from smartcomm.models.promocodes import PromoCode, PromoCodeGroup
from smartcomm.models.receipts import Receipt, ReceiptLine
from smartcomm.models.segments import (
    Audience,
    AudienceImport,
    AudienceMember,
    CustomerRfm,
    RfmCalculation,
    Segment,
    SegmentBuild,
    SegmentEvent,
    SegmentMembership,
)
from smartcomm.models.settings import SettingValue, StoredFile
from smartcomm.models.templates import MessageTemplate, MessageTemplateVersion
from smartcomm.models.users import User

__all__ = [
    "AttributedReceipt",
    "Audience",
    "AudienceImport",
    "AudienceMember",
    "AuditEntry",
    "Base",
    "BonusExpiration",
    "Campaign",
    "CampaignMessage",
    "CampaignNodeCounter",
    "CampaignNodeStat",
    "CampaignVersion",
    "Category",
    "ChannelProvider",
    "Classifier",
    "Container",
    "ContainerItem",
    "ContainerState",
    "Customer",
    "CustomerRfm",
    "DashboardSnapshot",
    "Dictionary",
    "DictionaryItem",
    "DomainEvent",
    "EmailConfirmation",
    "Event",
    "EventCheckpoint",
    "EventSource",
    "FieldDefinition",
    "GlobalControlDraw",
    "GlobalControlMember",
    "IdempotencyRecord",
    "ImportJob",
    "Journey",
    "LoyaltyAccount",
    "LoyaltyRequest",
    "Mailing",
    "MailingAssignment",
    "MailingCategory",
    "MailingControlMember",
    "Message",
    "MessageContent",
    "MessageEvent",
    "MessageTemplate",
    "MessageTemplateVersion",
    "Notification",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OrderStatusChange",
    "PointsEntry",
    "Poll",
    "PollAnswer",
    "PollInvitation",
    "PollResponse",
    "Popup",
    "Product",
    "PromoCode",
    "PromoCodeGroup",
    "PushToken",
    "Receipt",
    "ReceiptLine",
    "RfmCalculation",
    "Segment",
    "SegmentBuild",
    "SegmentEvent",
    "SegmentMembership",
    "SettingValue",
    "Store",
    "StoredFile",
    "Subscription",
    "TrackedLink",
    "UnsubscribeRecord",
    "User",
    "Visitor",
    "WatcherGroup",
    "WebEvent",
    "WebSession",
    "WebhookDelivery",
]
