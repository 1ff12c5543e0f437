"""A classifier's category tree held in memory while a batch changes it.

A batch may name parents that come later in the same batch, move categories to other parents and so
move whole subtrees. The tree checks the result (known parents, no cycles) before anything is written
and then gives every category its materialised path "/<id>/<id>/".
"""

from __future__ import annotations

from collections.abc import Iterator

from smartcomm.kit.errors import FieldError
from smartcomm.models import Category


class CategoryTree:
    def __init__(self, classifier_id: int, categories: list[Category]) -> None:
        self.classifier_id = classifier_id
        self.by_code = {category.code: category for category in categories}
        code_of = {category.id: category.code for category in categories}
        self.parent_of: dict[str, str | None] = {
            c.code: code_of.get(c.parent_id) if c.parent_id is not None else None for c in categories
        }
        self.created: set[str] = set()
        self.parent_sent_by: dict[
            str, str
        ] = {}  # category code -> field path of the item that set its parent

    def put(self, code: str, name: str) -> Category:
        """The category with this code, created (as a top category) when the classifier has none."""
        category = self.by_code.get(code)
        if category is None:
            category = Category(classifier_id=self.classifier_id, code=code, name=name, path="/", custom={})
            self.by_code[code] = category
            self.parent_of[code] = None
            self.created.add(code)
        category.name = name
        return category

    def set_parent(self, code: str, parent: str | None, field_path: str) -> None:
        self.parent_of[code] = parent
        self.parent_sent_by[code] = field_path

    def problems(self) -> list[FieldError]:
        """Unknown parents, then parent changes that would make a category its own ancestor."""
        unknown = [
            FieldError(field_path, f"no category {self.parent_of[code]!r} in this classifier", "unknown")
            for code, field_path in self.parent_sent_by.items()
            if self.parent_of[code] is not None and self.parent_of[code] not in self.by_code
        ]
        if unknown:
            return unknown
        return [
            FieldError(
                self.parent_sent_by[code], "this parent would make the category its own ancestor", "cycle"
            )
            for code in sorted(self._cyclic())
            if code in self.parent_sent_by
        ]

    def new_categories(self) -> list[Category]:
        return [self.by_code[code] for code in self.created]

    def link(self) -> None:
        """Set parent ids and paths from the codes (every category needs its id: flush new ones first)."""
        paths: dict[str, str] = {}
        for code, category in self.by_code.items():
            parent = self.parent_of[code]
            parent_id = self.by_code[parent].id if parent is not None else None
            if category.parent_id != parent_id:
                category.parent_id = parent_id
            path = self._path(code, paths)
            if category.path != path:
                category.path = path

    def _path(self, code: str, known: dict[str, str]) -> str:
        chain = list(self._up_to_known(code, known))
        if not chain:
            return known[code]
        top_parent = self.parent_of[chain[-1]]
        prefix = "/" if top_parent is None else known[top_parent]
        for step in reversed(chain):
            prefix = known[step] = f"{prefix}{self.by_code[step].id}/"
        return known[code]

    def _up_to_known(self, code: str, known: dict[str, str]) -> Iterator[str]:
        """The code and its ancestors, from the category upwards, stopping before one whose path is known."""
        current: str | None = code
        while current is not None and current not in known:
            yield current
            current = self.parent_of[current]

    def _cyclic(self) -> set[str]:
        done: set[str] = set()
        cyclic: set[str] = set()
        for start in self.parent_of:
            chain: list[str] = []
            on_chain: set[str] = set()
            current: str | None = start
            while current is not None and current not in done and current not in on_chain:
                chain.append(current)
                on_chain.add(current)
                current = self.parent_of.get(current)
            if current is not None and current in on_chain:
                cyclic.update(chain[chain.index(current) :])
            done.update(chain)
        return cyclic
