"""The shapes of campaigns as the API and the forms give them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from smartcomm.attribution.schemas import AttributionRuleIn
from smartcomm.campaigns.graph import GraphIn
from smartcomm.kit.types import RowId, check_json

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# The longest re-entry interval: two years, in minutes.
MAX_REENTRY_MINUTES = 2 * 366 * 24 * 60


class ExitRule(BaseModel):
    """What removes a customer from the campaign on the way: a purchase (receipt), an order, a purchase on
    the site, or a named event."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["receipt", "order", "site_order", "event"]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    # None: a customer enters once; 0: whenever the trigger fires; N: no earlier than N minutes after.
    reentry_minutes: Annotated[int, Field(ge=0, le=MAX_REENTRY_MINUTES)] | None = None
    exit_rules: list[ExitRule] = Field(default_factory=list, max_length=10)
    category_id: RowId | None = None
    exclude_global_control: bool = True
    # The attribution rule of the campaign's messages; none: the default of the settings.
    attribution: AttributionRuleIn | None = None


class GraphOut(BaseModel):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


# A graph as the editor and the API send it: JSON that can be stored as it is (finite numbers, no NUL, not
# nested beyond the segment builder's deepest rules), refused with a 422 otherwise.
MAX_GRAPH_BYTES = 1024 * 1024
MAX_GRAPH_DEPTH = 40


class GraphBody(GraphIn):
    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return check_json(data, max_bytes=MAX_GRAPH_BYTES, max_depth=MAX_GRAPH_DEPTH)
