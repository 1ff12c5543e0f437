"""Every ORM model of the product, re-exported so that Alembic and the services see one metadata."""

from smartcomm.kit.models import Base
from smartcomm.models.audit import AuditEntry
from smartcomm.models.settings import SettingValue, StoredFile
from smartcomm.models.users import User

__all__ = ["AuditEntry", "Base", "SettingValue", "StoredFile", "User"]
