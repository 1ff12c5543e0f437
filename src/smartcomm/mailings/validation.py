"""What a mailing's settings must satisfy: everything they name exists, templates are of the channel,
an A/B test has 2 to 5 well-formed variants, the control group is a share or an audience, the attribution
rule is complete. Every problem names its field; one call reports them all."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.mailings.repository import MailingRepository
from smartcomm.mailings.schemas import MailingFields, VariantIn
from smartcomm.models import Mailing
from smartcomm.personalization.engine import compile_part
from smartcomm.personalization.errors import RenderError

CASCADE = "sms_viber"
TEMPLATE_CHANNELS = {"email": "email", "sms": "sms", "sms_viber": "viber", "push": "push"}
MIN_VARIANTS = 2


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)


def validate(session: Session, channel: str, data: MailingFields) -> None:
    """Everything the draft names exists and fits together; raises InvalidInput naming each field."""
    repository = MailingRepository(session)
    errors = _template_errors(repository, channel, "", data.template_version_id, data.sms_template_version_id)
    if data.category_id is not None and not repository.category_exists(data.category_id):
        errors.append(FieldError("category_id", "There is no such mailing category"))
    if data.segment_id is not None and not repository.segment_exists(data.segment_id):
        errors.append(FieldError("segment_id", "There is no such segment"))
    for name in ("include_audience_ids", "exclude_audience_ids"):
        missing = repository.missing_audiences(getattr(data, name) or [])
        if missing:
            errors.append(FieldError(name, f"There are no target audiences {missing}"))
    if data.control_audience_id is not None:
        if repository.missing_audiences([data.control_audience_id]):
            errors.append(FieldError("control_audience_id", "There is no such target audience"))
        if data.control_percent:
            message = "Choose either a share or a target audience as the control group"
            errors.append(FieldError("control_audience_id", message))
    missing = repository.missing_watcher_groups(data.watcher_group_ids or [])
    if missing:
        errors.append(FieldError("watcher_group_ids", f"There are no watcher groups {missing}"))
    errors += _variant_errors(repository, channel, data)
    errors += _attribution_errors(data)
    raise_if(errors)


def check_ready(session: Session, mailing: Mailing) -> None:
    """A mailing about to be launched has content for every variant and an audience."""
    data = MailingFields.model_validate(
        {name: getattr(mailing, name) for name in MailingFields.model_fields if name not in ("sender", "utm")}
    )
    validate(session, mailing.channel, data)
    errors: list[FieldError] = []
    contents = [(mailing.template_version_id, mailing.sms_template_version_id, "")]
    if mailing.variants:
        contents = [
            (
                variant.get("template_version_id") or mailing.template_version_id,
                variant.get("sms_template_version_id") or mailing.sms_template_version_id,
                f"variants[{index}].",
            )
            for index, variant in enumerate(mailing.variants)
        ]
    for template_id, sms_template_id, prefix in contents:
        if template_id is None:
            errors.append(FieldError(f"{prefix}template_version_id", "Choose the template to send"))
        if mailing.channel == CASCADE and sms_template_id is None:
            field = f"{prefix}sms_template_version_id"
            errors.append(FieldError(field, "Choose the SMS template of the cascade"))
    if mailing.segment_id is None and not mailing.include_audience_ids:
        errors.append(FieldError("segment_id", "Choose a segment or target audiences to send to"))
    raise_if(errors)


def _template_errors(
    repository: MailingRepository,
    channel: str,
    prefix: str,
    template_version_id: int | None,
    sms_template_version_id: int | None,
) -> list[FieldError]:
    errors: list[FieldError] = []
    wanted = {"template_version_id": (template_version_id, TEMPLATE_CHANNELS[channel])}
    if channel == CASCADE:
        wanted["sms_template_version_id"] = (sms_template_version_id, "sms")
    elif sms_template_version_id is not None:
        field = f"{prefix}sms_template_version_id"
        errors.append(FieldError(field, "Only a Viber → SMS mailing has an SMS leg"))
    for name, (version_id, expected) in wanted.items():
        if version_id is None:
            continue
        found = repository.template_channel(version_id)
        if found is None:
            errors.append(FieldError(f"{prefix}{name}", "There is no such template version"))
        elif found != expected:
            errors.append(FieldError(f"{prefix}{name}", f"The template is for {found}, not {expected}"))
    return errors


def _variant_errors(repository: MailingRepository, channel: str, data: MailingFields) -> list[FieldError]:
    variants = data.variants or []
    errors: list[FieldError] = []
    if variants and len(variants) < MIN_VARIANTS:
        errors.append(FieldError("variants", "An A/B test has 2 to 5 variants"))
    if data.ab_test is not None and not variants:
        errors.append(FieldError("ab_test", "An automatic winner needs an A/B test's variants"))
    given = [v.share for v in variants if v.share is not None]
    if sum(given) > 100.0001 or (len(given) == len(variants) and variants and abs(sum(given) - 100) > 0.01):
        errors.append(FieldError("variants", "The variants' shares must add up to 100 %"))
    for index, variant in enumerate(variants):
        errors += _one_variant_errors(repository, channel, index, variant)
    return errors


def _one_variant_errors(
    repository: MailingRepository, channel: str, index: int, variant: VariantIn
) -> list[FieldError]:
    prefix = f"variants[{index}]."
    errors = _template_errors(
        repository, channel, prefix, variant.template_version_id, variant.sms_template_version_id
    )
    if variant.subject is not None:
        if channel != "email":
            errors.append(FieldError(f"{prefix}subject", "Only an e-mail has a subject"))
        else:
            try:
                compile_part("subject", variant.subject)
            except RenderError as error:
                errors.append(FieldError(f"{prefix}subject", str(error)))
    if variant.sender is not None and channel != "email" and variant.sender.address is not None:
        errors.append(FieldError(f"{prefix}sender.address", "Only an e-mail has a sender address"))
    return errors


def _attribution_errors(data: MailingFields) -> list[FieldError]:
    rule = data.attribution_rule
    if rule is None:
        return []
    errors: list[FieldError] = []
    if rule.window == "days" and rule.days is None:
        errors.append(FieldError("attribution_rule.days", "Give the number of days after the touch"))
    if rule.window == "range":
        if rule.date_from is None or rule.date_to is None:
            errors.append(FieldError("attribution_rule.date_from", "Give the first and the last day"))
        elif rule.date_from > rule.date_to:
            errors.append(FieldError("attribution_rule.date_to", "The last day comes before the first"))
    return errors
