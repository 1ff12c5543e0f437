"""Membership metrics: target audiences, other segments (their last build), RFM scores."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select

from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import AudienceMember, Customer, CustomerRfm, SegmentMembership
from smartcomm.segments.metrics.base import (
    CompileContext,
    Metric,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    param,
    param_id,
    registry,
)
from smartcomm.segments.rules import Condition

MEMBERSHIP = lazy("Audiences and segments")
RFM = lazy("RFM")


def _id_param(condition: Condition, name: str) -> int:
    param(condition, name, True)
    found = param_id(condition, name)
    if found is None:
        raise MetricError(f'the parameter {name!r} is an id, or a name given as {{"name": …}}')
    return found


def _build_audience(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    member = exists(
        select(AudienceMember.customer_id).where(
            AudienceMember.customer_id == Customer.id,
            AudienceMember.audience_id == _id_param(condition, "audience"),
        )
    )
    return compare(member, AUDIENCE, condition, context)


AUDIENCE = registry.register(
    Metric(
        "audiences.member",
        lazy("In the target audience"),
        MEMBERSHIP,
        ValueType.BOOLEAN,
        _build_audience,
        params=(ParamSpec("audience", lazy("Target audience"), "audience", True),),
    )
)


def _build_segment(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    # The other segment's materialised membership, never its rules: trees are not inlined into each other.
    member = exists(
        select(SegmentMembership.customer_id).where(
            SegmentMembership.customer_id == Customer.id,
            SegmentMembership.segment_id == _id_param(condition, "segment"),
            SegmentMembership.exited_at.is_(None),
        )
    )
    return compare(member, SEGMENT, condition, context)


SEGMENT = registry.register(
    Metric(
        "segments.member",
        lazy("In the segment"),
        MEMBERSHIP,
        ValueType.BOOLEAN,
        _build_segment,
        params=(ParamSpec("segment", lazy("Segment"), "segment", True),),
    )
)


def _score_metric(letter: str, label: LazyString) -> Metric:
    column = getattr(CustomerRfm, letter)

    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        score = select(column).where(CustomerRfm.customer_id == Customer.id).scalar_subquery()
        return compare(score, metric, condition, context)

    metric = Metric(f"rfm.{letter}", label, RFM, ValueType.INTEGER, build)
    return registry.register(metric)


_score_metric("r", lazy("RFM recency score (R)"))
_score_metric("f", lazy("RFM frequency score (F)"))
_score_metric("m", lazy("RFM monetary score (M)"))


def _build_scored(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    scored = exists(select(CustomerRfm.customer_id).where(CustomerRfm.customer_id == Customer.id))
    return compare(scored, SCORED, condition, context)


SCORED = registry.register(
    Metric("rfm.scored", lazy("Has an RFM score"), RFM, ValueType.BOOLEAN, _build_scored)
)
