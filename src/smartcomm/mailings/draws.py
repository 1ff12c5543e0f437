"""Who of a mailing's audience gets what: the control group and, in an A/B test, the variant.

Every draw comes from a hash of the mailing's seed and the customer id, so the same seed always draws the
same customers whatever the batches, their order or the number of workers — a collect interrupted and
resumed draws exactly what one uninterrupted run would have, and the draw can be checked afterwards.

- Control group by share: exactly round(share × size) customers of the audience, those with the smallest
  hashes; with strata, so in each stratum (customers equal on the chosen fields) — every stratum keeps
  the share.
- A/B variants: the shares split the unit interval; with an automatic winner only the test share is drawn
  into variants, the others wait for the winner.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

_SCALE = 2**64
LETTERS = "ABCDE"


def unit(seed: int, customer_id: int, salt: str = "") -> float:
    """A number in [0, 1) fixed by the seed, the customer and the purpose of the draw."""
    key = f"{seed}:{customer_id}" if not salt else f"{seed}:{salt}:{customer_id}"
    digest = hashlib.sha256(key.encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def stratified_control(seed: int, percent: float, strata: Iterable[tuple[int, Hashable]]) -> list[int]:
    """The control group drawn within each stratum: of each stratum's customers, the round(share × size)
    with the smallest hashes. `strata` yields (customer id, stratum key)."""
    if percent <= 0:
        return []
    by_stratum: dict[Hashable, list[tuple[float, int]]] = defaultdict(list)
    for customer_id, key in strata:
        by_stratum[key].append((unit(seed, customer_id), customer_id))
    drawn: list[int] = []
    for members in by_stratum.values():
        members.sort()
        take = round(len(members) * percent / 100)
        drawn.extend(customer_id for _, customer_id in members[:take])
    return sorted(drawn)


def variant_shares(variants: Sequence[dict[str, Any]]) -> list[float]:
    """Each variant's share in percent, summing to 100: the shares given, and what is left split evenly
    among the variants without one (all even when none is given)."""
    given = [v.get("share") for v in variants]
    free = [i for i, share in enumerate(given) if share is None]
    left = max(100.0 - sum(float(s) for s in given if s is not None), 0.0)
    shares = [float(s) if s is not None else left / len(free) for s in given]
    total = sum(shares) or 1.0
    return [share * 100 / total for share in shares]


def variant_of(
    seed: int, customer_id: int, shares: Sequence[float], test_percent: float | None = None
) -> int | None:
    """The variant a customer gets (its index), or None when an automatic-winner test leaves them for the
    winner."""
    if test_percent is not None and unit(seed, customer_id, "test") * 100 >= test_percent:
        return None
    point = unit(seed, customer_id, "variant") * 100
    reached = 0.0
    for index, share in enumerate(shares):
        reached += share
        if point < reached:
            return index
    return len(shares) - 1


def label(index: int) -> str:
    return LETTERS[index] if 0 <= index < len(LETTERS) else str(index)
