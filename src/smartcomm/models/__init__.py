"""Every ORM model of the product, re-exported so that Alembic and the services see one metadata."""

from smartcomm.kit.models import Base
from smartcomm.models.audit import AuditEntry
from smartcomm.models.catalog import Category, Classifier, Product, Store
from smartcomm.models.containers import Container, ContainerItem, ContainerState
from smartcomm.models.customers import Customer, PushToken, Subscription
from smartcomm.models.data_settings import Dictionary, DictionaryItem, FieldDefinition, MailingCategory
from smartcomm.models.events import Event, EventSource, Visitor, WebEvent, WebSession
from smartcomm.models.intake import IdempotencyRecord, ImportJob
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
from smartcomm.models.users import User

__all__ = [
    "Audience",
    "AudienceImport",
    "AudienceMember",
    "AuditEntry",
    "Base",
    "Category",
    "Classifier",
    "Container",
    "ContainerItem",
    "ContainerState",
    "Customer",
    "CustomerRfm",
    "Dictionary",
    "DictionaryItem",
    "Event",
    "EventSource",
    "FieldDefinition",
    "IdempotencyRecord",
    "ImportJob",
    "MailingCategory",
    "Product",
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
    "User",
    "Visitor",
    "WebEvent",
    "WebSession",
]
