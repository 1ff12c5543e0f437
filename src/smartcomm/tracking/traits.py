"""Segment `identify` traits mapped onto customer fields."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

# Segment's reserved traits (and their snake_case spellings) that are customer fields.
TRAIT_FIELDS = {
    "email": "email",
    "phone": "phone",
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "middleName": "middle_name",
    "middle_name": "middle_name",
    "birthday": "birth_date",
    "gender": "gender",
}
ADDRESS_FIELDS = {"city": "city", "country": "country", "state": "region"}
# Values our customers' gender takes; anything else ("other", "non-binary", …) is left unset.
KNOWN_GENDERS = frozenset({"m", "male", "f", "female", "м", "ж"})


@dataclass
class MappedTraits:
    """Customer fields taken from traits, and the trait each came from (to name it in errors)."""

    fields: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, value: Any, trait: str) -> None:
        self.fields[name] = value
        self.origins[name] = trait

    def put_custom(self, code: str, value: Any) -> None:
        self.fields.setdefault("custom", {})[code] = value
        self.origins[f"custom.{code}"] = code

    def trait_of(self, field_path: str) -> str:
        return self.origins.get(field_path, field_path)


def map_traits(traits: dict[str, Any], custom_codes: Collection[str]) -> MappedTraits:
    """Known traits become customer fields, traits named like a custom field fill it, the rest is ignored."""
    mapped = MappedTraits()
    for trait, value in traits.items():
        target = TRAIT_FIELDS.get(trait)
        if target is not None:
            _put_field(mapped, target, value, trait)
        elif trait == "address" and isinstance(value, dict):
            for key, name in ADDRESS_FIELDS.items():
                if key in value:
                    _put_field(mapped, name, value[key], f"address.{key}")
        elif trait in custom_codes:
            mapped.put_custom(trait, value)
    _split_name(mapped, traits.get("name"))
    return mapped


def _put_field(mapped: MappedTraits, name: str, value: Any, trait: str) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # phones and postcodes often arrive as numbers
    if name == "gender" and (not isinstance(value, str) or value.strip().lower() not in KNOWN_GENDERS):
        return
    if name == "birth_date" and isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        value = value[:10]  # SDKs send birthdays as midnight timestamps
    mapped.put(name, value, trait)


def _split_name(mapped: MappedTraits, name: Any) -> None:
    """`name` fills the first and last names that were not sent on their own."""
    if not isinstance(name, str) or not name.strip():
        return
    first, _, last = name.strip().partition(" ")
    if "first_name" not in mapped.fields:
        mapped.put("first_name", first, "name")
    if last and "last_name" not in mapped.fields:
        mapped.put("last_name", last.strip(), "name")
