"""HTML forms generated from the contract's pydantic models, and read back into them.

Each field's widget follows its type: a Literal or an enum is a select, a list of an enum a
set of checkboxes, a list of names a textarea (one per line), a bool a checkbox, an int a
number, a time a `datetime-local` input read as Europe/London time, long text a textarea. A
list of small models (a MASE decision's actions) is a fixed number of rows, each a fieldset of
the item model's own fields named `<list>.<row>.<field>`; a row left empty is left out.
What the browser sends is only turned into the model's types; the model itself validates.
A list that may be None (`list[...] | None = None`: a review's indicators) left empty is left
out, so the model's None ("unchanged since the last screening") applies, not an empty list.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, ValidationError
from pydantic.fields import FieldInfo
from starlette.datastructures import FormData

from api.dashboard.rendering import words
from domain.calendar import LONDON

FORM_LEVEL = ""  # the key of problems that concern the whole form, shown at its top
LONG_TEXT = 200  # strings allowed longer than this get a textarea
Values = dict[str, list[str]]


class Widget(StrEnum):
    text = "text"
    textarea = "textarea"
    lines = "lines"
    select = "select"
    checkboxes = "checkboxes"
    checkbox = "checkbox"
    number = "number"
    moment = "datetime"
    rows = "rows"


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: Widget
    required: bool
    options: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    empty_is_unchanged: bool = False  # a list left empty is left out: None, "unchanged"
    empty_is_none: bool = False  # an optional value (`X | None`) left empty is None
    verbatim_options: bool = False  # options shown as written (teams), not as words
    option_labels: tuple[str, ...] = ()  # what each option shows, when not the option itself
    item_label: str = ""  # rows: what one row is ("Agreed action")
    rows: tuple[tuple[FormField, ...], ...] = ()  # rows: each row's fields, named a.0.b

    @property
    def control_id(self) -> str:
        """The id of its control (a group's first box): the error summary links to it."""
        return "in-" + self.name.replace(".", "-")

    @property
    def controls(self) -> list[FormField]:
        """What the error summary may link to: the field, and each field of its rows."""
        return [
            self,
            *(
                replace(part, label=f"{self.item_label} {number}, {part.label.lower()}")
                for number, row in enumerate(self.rows, 1)
                for part in row
            ),
        ]

    @property
    def hint(self) -> str:
        if self.widget == Widget.moment:
            return "UK time (Europe/London)"
        if self.empty_is_unchanged:
            each = "one per line; " if self.widget == Widget.lines else ""
            return f"{each}leave empty if unchanged since the last screening"
        if self.widget == Widget.lines:
            return "one per line"
        if self.widget == Widget.rows:
            return (
                f"up to {len(self.rows)}; leave a row empty to leave it out, "
                "and fill in every field of a row you use"
            )
        return ""


def form_fields(
    model: type[BaseModel], omit: frozenset[str] = frozenset({"actor"})
) -> list[FormField]:
    return [_field(name, info) for name, info in model.model_fields.items() if name not in omit]


def _field(name: str, info: FieldInfo) -> FormField:
    annotation, optional = _without_none(info.annotation)
    bounds = {k: getattr(m, k) for m in info.metadata for k in _BOUNDS if hasattr(m, k)}
    item = _item_model(annotation)
    if item is not None:
        return _rows_field(name, item, min(ROWS, bounds.get("max_length") or ROWS))
    widget, options = _widget(annotation)
    if widget == Widget.text and (bounds.get("max_length") or 0) > LONG_TEXT:
        widget = Widget.textarea
    return FormField(
        name=name,
        label=words(name),
        widget=widget,
        required=info.is_required() and not optional and widget != Widget.checkbox,
        options=options,
        minimum=bounds.get("ge"),
        maximum=bounds.get("le"),
        max_length=bounds.get("max_length"),
        pattern=bounds.get("pattern"),
        empty_is_unchanged=optional and widget in _LISTS,
        empty_is_none=optional and widget not in _LISTS,
    )


_BOUNDS = ("ge", "le", "max_length", "pattern")
_LISTS = (Widget.checkboxes, Widget.lines)
ROWS = 5  # rows offered for a list of small models (no script adds more)


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The item model of a `list[SomeModel]`, else None."""
    if get_origin(annotation) is not list:
        return None
    item = get_args(annotation)[0]
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _rows_field(name: str, item: type[BaseModel], count: int) -> FormField:
    parts = form_fields(item, omit=frozenset())
    rows = tuple(
        tuple(replace(part, name=f"{name}.{row}.{part.name}") for part in parts)
        for row in range(count)
    )
    item_label = re.sub(r"(?<!^)(?=[A-Z])", " ", item.__name__).capitalize()
    return FormField(
        name=name,
        label=words(name),
        widget=Widget.rows,
        required=False,
        item_label=item_label,
        rows=rows,
    )


def _without_none(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [arg for arg in get_args(annotation) if arg is not type(None)]
        return kept[0], len(kept) < len(get_args(annotation))
    return annotation, False


def _widget(annotation: Any) -> tuple[Widget, tuple[str, ...]]:
    origin = get_origin(annotation)
    if origin is Literal:
        return Widget.select, tuple(str(arg) for arg in get_args(annotation))
    if origin is list:
        item = get_args(annotation)[0]
        if isinstance(item, type) and issubclass(item, Enum):
            return Widget.checkboxes, tuple(str(member.value) for member in item)
        return Widget.lines, ()
    if annotation is bool:
        return Widget.checkbox, ()
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return Widget.select, tuple(str(member.value) for member in annotation)
    if annotation is AwareDatetime or annotation is datetime:
        return Widget.moment, ()
    if annotation is int:
        return Widget.number, ()
    return Widget.text, ()


# ---- reading a submitted form ---------------------------------------------------------------


def values_of(form: FormData, fields: list[FormField]) -> Values:
    """What was typed, as sent: to fill the form again beside its problems."""
    named = [part for f in fields for part in f.controls]
    return {f.name: [str(v) for v in form.getlist(f.name)] for f in named}


def submitted(values: Values, fields: list[FormField]) -> dict[str, Any]:
    """The values in the model's types, ready for the model to validate."""
    data: dict[str, Any] = {}
    for spec in fields:
        sent = values.get(spec.name, [])
        if spec.widget == Widget.rows:
            rows = filled_rows(values, spec)
            data[spec.name] = [_row_data(values, spec.rows[number]) for number in rows]
        elif spec.widget in _LISTS:
            lines = [line.strip() for v in sent for line in v.splitlines()]
            if any(lines) or not spec.empty_is_unchanged:
                data[spec.name] = [line for line in lines if line]
        elif spec.widget == Widget.checkbox:
            data[spec.name] = bool(sent)
        elif sent and sent[0].strip():
            data[spec.name] = _typed(spec, sent[0].strip())
        elif spec.empty_is_none:  # a referral's authorities, date of birth: not ""
            data[spec.name] = None
        elif not spec.required and spec.widget in _EMPTY:
            data[spec.name] = _EMPTY[spec.widget]
        # else left out: the model says it is required, or takes its default
    return data


def filled_rows(values: Values, spec: FormField) -> list[int]:
    """The numbers (from 0) of the rows of a list of models with anything typed in them."""
    return [
        number
        for number, row in enumerate(spec.rows)
        if any(v.strip() for part in row for v in values.get(part.name, []))
    ]


def _row_data(values: Values, row: tuple[FormField, ...]) -> dict[str, Any]:
    """One row as its item model's fields (`actions.0.due_at` read as `due_at`)."""
    short = [replace(part, name=part.name.rsplit(".", 1)[1]) for part in row]
    sent = {s.name: values.get(part.name, []) for s, part in zip(short, row, strict=True)}
    return submitted(sent, short)


_EMPTY: dict[Widget, Any] = {Widget.moment: None, Widget.text: "", Widget.textarea: ""}


def _typed(spec: FormField, value: str) -> Any:
    if spec.widget == Widget.number:
        try:
            return int(value)
        except ValueError:
            return value  # the model names it: "Input should be a valid integer"
    if spec.widget == Widget.moment:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)
    return value


def field_problems(
    err: ValidationError, rows: dict[str, list[int]] | None = None
) -> dict[str, str]:
    """Each problem under the field it concerns; whole-model rules naming a field go there.
    A problem in an item of a list of models goes beside its row's field (`actions.2.due_at`):
    `rows` gives the form row of each item sent (empty rows were left out)."""
    problems: dict[str, str] = {}
    for error in err.errors():
        field = _problem_field(error["loc"], rows or {})
        message = error["msg"].removeprefix("Value error, ")
        if field == FORM_LEVEL and ": " in message:
            field, _, message = message.partition(": ")
        problems.setdefault(field, message)
    return problems


def _problem_field(loc: tuple[int | str, ...], rows: dict[str, list[int]]) -> str:
    if not loc:
        return FORM_LEVEL
    name, item = str(loc[0]), loc[1] if len(loc) > 2 else None
    if isinstance(item, int) and item < len(rows.get(name, [])):
        return f"{name}.{rows[name][item]}.{loc[2]}"
    return name


def rows_sent(values: Values, fields: list[FormField]) -> dict[str, list[int]]:
    """For each list of models, the form row of each item the model was given."""
    return {f.name: filled_rows(values, f) for f in fields if f.widget == Widget.rows}


def initial_values(fields: list[FormField], now: datetime) -> Values:
    """A new form: every time field set to now, to the minute, in UK time."""
    stamp = now.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")
    return {f.name: [stamp] for f in fields if f.widget == Widget.moment}
