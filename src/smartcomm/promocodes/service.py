"""Promo code groups and their codes: creating and changing groups, adding, generating and importing
codes, blocking, issuing outside a message, and the counts the pages show.

Every action is the mutation and its history row in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.models import PromoCode, PromoCodeGroup
from smartcomm.promocodes import generating, issuing
from smartcomm.promocodes.generation import CodeFormat, FormatError, check_space, parse_format
from smartcomm.promocodes.importing import CodeIntake, NumberedLines
from smartcomm.promocodes.repository import PromoCodeGroupRepository, PromoCodeRepository
from smartcomm.promocodes.schemas import (
    AddedOut,
    CodeCounts,
    FormatPreview,
    GenerateIn,
    GroupCreate,
    GroupOut,
    GroupUpdate,
)
from smartcomm.settings.schemas import PromoCodeSettings
from smartcomm.settings.service import settings_service

GROUP = "promo_code_group"  # the action history's object types
CODE = "promo_code"
GROUP_FIELDS = ("name", "code", "description", "nominal", "offer", "valid_from", "valid_to", "low_threshold")
PREVIEW_EXAMPLES = 5
MAX_ISSUE_KEY = 64


def _snapshot(group: PromoCodeGroup) -> dict[str, Any]:
    return {name: getattr(group, name) for name in GROUP_FIELDS}


class PromoCodeService:
    # --- groups --------------------------------------------------------------------------------------

    def groups(self, session: Session) -> list[GroupOut]:
        """Every group, the newest first, with its codes counted by state."""
        repository = PromoCodeGroupRepository(session)
        found = repository.all()
        counts = repository.state_counts([g.id for g in found])
        default = self.default_threshold(session)
        return [_out(g, counts.get(g.id, {}), default) for g in found]

    def group_out(self, session: Session, group: PromoCodeGroup) -> GroupOut:
        counts = PromoCodeGroupRepository(session).state_counts([group.id]).get(group.id, {})
        return _out(group, counts, self.default_threshold(session))

    def get(self, session: Session, group_id: int) -> PromoCodeGroup:
        group = PromoCodeGroupRepository(session).get(group_id)
        if group is None:
            raise NotFound("Promo code group", group_id)
        return group

    def default_threshold(self, session: Session) -> int:
        return settings_service.read(session, PromoCodeSettings).low_threshold

    def create(self, session: Session, actor: Actor, data: GroupCreate) -> PromoCodeGroup:
        """A new group; its code must be unused by any other group (in any letter case)."""
        self._check_code_free(session, data.code, None)
        group = PromoCodeGroup(**data.model_dump(include=set(GROUP_FIELDS)), created_by_id=actor.user_id)
        PromoCodeGroupRepository(session).add(group)
        changes = diff({}, _snapshot(group))
        self._audit(session, actor, group, "create", changes)
        return group

    def update(
        self, session: Session, actor: Actor, group_id: int, data: GroupUpdate | GroupCreate
    ) -> PromoCodeGroup:
        """Change the fields sent; a group's code may change while templates do not name it yet."""
        group = self.get(session, group_id)
        values = data.model_dump(exclude_unset=True, include=set(GROUP_FIELDS))
        if values.get("code") is None:
            values.pop("code", None)
        if values.get("name") is None:
            values.pop("name", None)
        if "code" in values:
            self._check_code_free(session, values["code"], group.id)
        before = _snapshot(group)
        for name, value in values.items():
            setattr(group, name, value)
        if group.valid_from and group.valid_to and group.valid_to < group.valid_from:
            raise InvalidInput.for_field("valid_to", "is before valid_from")
        session.flush()
        changes = diff(before, _snapshot(group))
        if changes:
            self._audit(session, actor, group, "update", changes)
        return group

    def delete(self, session: Session, actor: Actor, group_id: int) -> None:
        """Delete a group and its codes; a group that has issued a code is kept (block it instead)."""
        group = self.get(session, group_id)
        if PromoCodeGroupRepository(session).has_issued_codes(group.id):
            raise Conflict(
                "This group has issued codes, so it cannot be deleted: customers may still hold them. "
                "Block it instead: it will issue nothing more.",
                [FieldError("group", "has issued codes; block it instead", "has_issued_codes")],
            )
        self._audit(session, actor, group, "delete", diff(_snapshot(group), {}))
        PromoCodeGroupRepository(session).delete(group)

    def set_blocked(self, session: Session, actor: Actor, group_id: int, blocked: bool) -> PromoCodeGroup:
        """Block a group (it issues nothing and its codes no longer redeem) or unblock it."""
        group = self.get(session, group_id)
        if group.blocked != blocked:
            group.blocked = blocked
            session.flush()
            self._audit(
                session, actor, group, "block" if blocked else "unblock", {"blocked": [not blocked, blocked]}
            )
        return group

    def _check_code_free(self, session: Session, code: str, group_id: int | None) -> None:
        other = PromoCodeGroupRepository(session).by_code(code)
        if other is not None and other.id != group_id:
            raise Conflict(
                f"The code {code} is already used by the group “{other.name}”",
                [FieldError("code", "is already used by another group", "taken")],
            )

    # --- codes ---------------------------------------------------------------------------------------

    def codes(
        self, session: Session, group_id: int, params: PageParams, status: str | None = None, query: str = ""
    ) -> Page[PromoCode]:
        """A group's codes, the latest first, by state and by the start of the code."""
        return PromoCodeRepository(session).search(
            self.get(session, group_id).id, params, status, query.strip()
        )

    def add_codes(
        self,
        session: Session,
        actor: Actor,
        group_id: int,
        lines: NumberedLines,
        where: Callable[[int], str],
        source: str,
    ) -> AddedOut:
        """Add a list of codes (pasted, a file, the API): every one, or none when any has a problem."""
        group = self.get(session, group_id)
        report = CodeIntake(PromoCodeRepository(session), group.id).add(lines, where)
        self._audit(
            session, actor, group, "add_codes", {"codes": [None, report.added], "source": [None, source]}
        )
        return AddedOut(added=report.added, counts=self.group_out(session, group).counts)

    def generate(self, session: Session, actor: Actor, group_id: int, data: GenerateIn) -> AddedOut:
        """Add `quantity` new random codes of a format, none equal to a code stored in any group: at once,
        or — above generating.SYNC_LIMIT — by a background job (`generation` in the answer shows it)."""
        group = self.get(session, group_id)
        code_format = parse_format(data.format)
        check_space(code_format, data.quantity)
        if data.quantity > generating.SYNC_LIMIT:
            generating.start(session, actor, group, data.format, data.quantity)
            return AddedOut(added=0, counts=self.group_out(session, group).counts, queued=data.quantity)
        added = _generate(PromoCodeRepository(session), group.id, code_format, data.quantity)
        group.last_format = data.format
        session.flush()
        changes = {"codes": [None, added], "format": [None, data.format]}
        self._audit(session, actor, group, "generate_codes", changes)
        return AddedOut(added=added, counts=self.group_out(session, group).counts)

    def preview(self, format_text: str, quantity: int | None = None) -> FormatPreview:
        """Example codes of a format and how many different codes it makes (or why it cannot be read)."""
        try:
            code_format = parse_format(format_text)
            if quantity:
                check_space(code_format, quantity)
        except (FormatError, InvalidInput) as error:
            space = 0 if isinstance(error, FormatError) else parse_format(format_text).space
            return FormatPreview(examples=[], space=space, error=error.errors[0].message)
        return FormatPreview(examples=code_format.sample(PREVIEW_EXAMPLES), space=code_format.space)

    def code(self, session: Session, code_id: int, group_id: int | None = None) -> PromoCode:
        found = PromoCodeRepository(session).get(code_id)
        if found is None or (group_id is not None and found.group_id != group_id):
            raise NotFound("Promo code", code_id)
        return found

    def code_by_text(self, session: Session, code: str) -> PromoCode:
        found = PromoCodeRepository(session).by_code(code.strip())
        if found is None:
            raise NotFound("Promo code")
        return found

    def set_code_blocked(self, session: Session, actor: Actor, code: PromoCode, blocked: bool) -> PromoCode:
        """Block a code (never issued, no longer redeems) or unblock it; a redeemed code stays as it is."""
        if code.status == issuing.REDEEMED:
            raise Conflict(
                "The code is already redeemed", [FieldError("code", "is already redeemed", "redeemed")]
            )
        if code.blocked != blocked:
            PromoCodeRepository(session).set_blocked([code.id], blocked)
            session.refresh(code)
            action = "block_code" if blocked else "unblock_code"
            audit_service.record(
                session,
                actor,
                object_type=CODE,
                object_id=code.id,
                action=action,
                changes={"blocked": [not blocked, blocked]},
                object_label=code.code,
            )
        return code

    def issue(
        self, session: Session, actor: Actor, group_id: int, customer_id: int, request_key: str
    ) -> PromoCode:
        """Give the customer a code of the group outside a message; the same request key gives the same
        code again."""
        group = self.get(session, group_id)
        key = _issue_key(request_key)
        try:
            code = issuing.issue(session, group, customer_id, key, None, utcnow())
        except issuing.NoCodeLeft:
            raise Conflict(
                "The group has no code to give: it is exhausted, blocked or past its validity",
                [FieldError("group", "no promo code left", "no_promocode")],
            ) from None
        audit_service.record(
            session,
            actor,
            object_type=CODE,
            object_id=code.id,
            action="issue",
            changes={"customer_id": [None, customer_id]},
            object_label=code.code,
        )
        return code

    def of_customer(self, session: Session, customer_id: int, params: PageParams) -> Page[PromoCode]:
        """The codes a customer was given or redeemed, the latest first."""
        return PromoCodeRepository(session).of_customer(customer_id, params)

    def groups_by_id(self, session: Session, group_ids: Collection[int]) -> dict[int, PromoCodeGroup]:
        repository = PromoCodeGroupRepository(session)
        return {i: g for i in set(group_ids) if (g := repository.get(i)) is not None}

    @staticmethod
    def _audit(
        session: Session, actor: Actor, group: PromoCodeGroup, action: str, changes: dict[str, Any]
    ) -> None:
        audit_service.record(
            session,
            actor,
            object_type=GROUP,
            object_id=group.id,
            action=action,
            changes=changes,
            object_label=f"{group.name} ({group.code})",
        )


def _out(group: PromoCodeGroup, states: dict[str, int], default_threshold: int) -> GroupOut:
    counts = CodeCounts(total=sum(states.values()), **states)
    threshold = group.low_threshold if group.low_threshold is not None else default_threshold
    if counts.total == 0:
        stock = "empty"
    elif counts.active == 0:
        stock = "exhausted"
    else:
        stock = "low" if counts.active <= threshold else "ok"
    out = GroupOut.model_validate(group)
    return out.model_copy(update={"counts": counts, "stock": stock, "low_threshold": threshold})


def _generate(repository: PromoCodeRepository, group_id: int, code_format: CodeFormat, quantity: int) -> int:
    """Add exactly `quantity` codes, or refuse (the request rolls back) when the format has too few left."""
    added = generating.draw(repository, group_id, code_format, quantity)
    if added < quantity:
        raise Conflict(
            "Not enough new codes of this format could be made: most of its codes already exist. "
            "Use a longer format or more characters; nothing was added.",
            [FieldError("format", "too few new codes left in this format", "space_exhausted")],
        )
    return added


def _issue_key(request_key: str) -> str:
    key = f"api:{request_key}"
    if len(key) <= MAX_ISSUE_KEY:
        return key
    return "api:" + hashlib.sha256(request_key.encode()).hexdigest()[: MAX_ISSUE_KEY - 4]


promocode_service = PromoCodeService()
