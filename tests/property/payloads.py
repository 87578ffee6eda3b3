"""Hypothesis strategies for what an outside client may send: valid payloads built from the
models' own fields, near-valid ones with one field spoiled, arbitrary JSON and raw bytes.

A generated payload is a blueprint: its times are `At` placeholders placed relative to the
case it is sent to (the referral's `received_at` and the moment it is sent), so the same
strategies serve a case built in memory and a case running on the time-skipping server.
`Sent.payload` turns a blueprint into a `json/plain` payload of its bytes, as a client sends.
"""

from __future__ import annotations

import enum
import functools
import json
import string
import types
import typing
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

import annotated_types
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, StringConstraints
from temporalio.api.common.v1 import Payload

SKEW = timedelta(minutes=5)  # Policy().clock_skew_minutes
LIVE_MARGIN = timedelta(hours=1)
"""On the live server the workflow's clock is a little ahead of the test's: a time sent as
"future" or "before the referral" keeps this far from the edge so both agree on it."""


@dataclass(frozen=True)
class Window:
    """Where a payload's times are placed: the case's referral time and the moment of sending."""

    received_at: datetime
    now: datetime


@dataclass(frozen=True)
class At:
    """A time in a blueprint. `kind` says where it falls; the rest says how it is written."""

    kind: str
    fraction: float = 0.0
    seconds: float = 0.0
    offset_minutes: int = 0
    zulu: bool = False
    text: str = ""

    def render(self, window: Window) -> Any:
        span = window.now - window.received_at
        inside = window.received_at + span * self.fraction
        moment = {
            "within": inside,
            "received": window.received_at,
            "now": window.now,
            "skew_edge": window.now + SKEW + timedelta(seconds=self.seconds),
            "future": window.now + SKEW + LIVE_MARGIN + timedelta(seconds=self.seconds),
            "before": window.received_at - timedelta(seconds=self.seconds),
            "just_before": window.received_at - timedelta(microseconds=1),
        }.get(self.kind, inside)
        if self.kind == "epoch":
            return int(inside.timestamp())
        if self.kind == "naive":
            return inside.replace(tzinfo=None).isoformat()
        if self.kind == "date_only":
            return inside.date().isoformat()
        if self.kind == "born":  # a date of birth: a child whenever in the window referred
            return _born(window, self.fraction).isoformat()
        if self.kind == "text":
            return self.text
        shown = moment.astimezone(timezone(timedelta(minutes=self.offset_minutes)))
        written = shown.isoformat()
        return written.replace("+00:00", "Z") if self.zulu else written


def _born(window: Window, fraction: float) -> date:
    """A day at least two days before the window's earliest referral time, and less than 17
    and a half years before its latest, so the child is a child however the referral's own
    time falls in the window."""
    latest = window.received_at - timedelta(days=2)
    earliest = window.now - timedelta(days=int(17.5 * 365))
    span = max(latest - earliest, timedelta(0))
    return (latest - span * fraction).date()


def render_value(value: Any, window: Window) -> Any:
    """A blueprint with every `At` replaced by the time it stands for."""
    if isinstance(value, At):
        return value.render(window)
    if isinstance(value, dict):
        return {k: render_value(v, window) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, window) for v in value]
    return value


@dataclass(frozen=True)
class Sent:
    """One generated payload: how it was made (`shape`, for the tally) and what it is."""

    shape: str
    value: Any = None
    raw: bytes | None = None

    def json_bytes(self, window: Window) -> bytes:
        if self.raw is not None:
            return self.raw
        text = json.dumps(render_value(self.value, window), ensure_ascii=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: sent escaped, as JSON allows
            return json.dumps(render_value(self.value, window)).encode("ascii")

    def payload(self, window: Window) -> Payload:
        return Payload(metadata={"encoding": b"json/plain"}, data=self.json_bytes(window))

    def keys(self) -> set[str]:
        """The keys of the JSON object sent, if it was one."""
        value = self.value
        if self.raw is not None:
            try:
                value = json.loads(self.raw)
            except (ValueError, RecursionError):
                return set()
        return set(value) if isinstance(value, dict) else set()


def sent_to(name: str) -> Callable[[Sent], tuple[str, Sent]]:
    """Each payload paired with the name of the update it is sent to (for `.map`)."""
    return lambda sent: (name, sent)


# ---------------------------------------------------------------------------- times

_OFFSETS = st.sampled_from([0, 0, 0, 60, -300, 330, 845, -720, 840, 1439, -1439])


@functools.cache
def good_times(live: bool) -> st.SearchStrategy[At]:
    """Times a practitioner could state: between the referral and now, in any offset."""
    edges = ["received"] if live else ["received", "now"]
    return st.one_of(
        st.builds(
            At, st.just("within"), st.floats(0, 1), offset_minutes=_OFFSETS, zulu=st.booleans()
        ),
        st.builds(At, st.sampled_from(edges), offset_minutes=_OFFSETS),
        st.builds(At, st.just("epoch"), st.floats(0, 1)),
    )


_ODD_TIME_TEXT = [
    "1999-12-31T23:59:59Z",
    "2000-01-01T00:00:00Z",
    "2000-01-01T00:30:00+01:00",
    "2099-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
    "",
    "yesterday",
    "2026-02-30T10:00:00+00:00",
    "2026-13-01T10:00:00Z",
    "2026-06-01T24:00:01Z",
    "2026-06-01T23:59:60Z",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00",
    "2026-06-01T10:00:00+25:00",
    "2026-06-01T10:00:00 Europe/London",
    "1e30",
    "-1",
    "NaN",
    "2026-06-01T10:00:00.123456789123+00:00",
]


@functools.cache
def bad_times(live: bool) -> st.SearchStrategy[At]:
    """Times that must be refused: in the future, before the referral, naive, not a time."""
    kinds = [
        st.builds(At, st.just("future"), seconds=st.floats(0, 3e9)),
        st.builds(At, st.just("before"), seconds=st.floats(1e-3 if not live else 3600, 3e9)),
        st.builds(At, st.just("naive"), st.floats(0, 1)),
        st.builds(At, st.just("date_only"), st.floats(0, 1)),
        st.builds(At, st.just("text"), text=st.sampled_from(_ODD_TIME_TEXT) | st.text(max_size=30)),
    ]
    if not live:
        kinds += [
            st.builds(At, st.just("skew_edge"), seconds=st.floats(-2, 2)),
            st.just(At("just_before")),
        ]
    return st.one_of(*kinds)


# ---------------------------------------------------------------------------- fields


def _constraints(metadata: list[Any]) -> StringConstraints | None:
    return next((m for m in metadata if isinstance(m, StringConstraints)), None)


_WORD = string.ascii_letters + string.digits


def _text(limits: StringConstraints | None) -> st.SearchStrategy[str]:
    if limits is not None and limits.pattern:
        return st.from_regex(limits.pattern, fullmatch=True)
    longest = min(limits.max_length or 60, 60) if limits else 60
    body = st.text(alphabet=_WORD + " -_.'/éß", max_size=longest - 1)
    return st.builds(str.__add__, st.sampled_from(_WORD), body)


def _annotated(annotation: Any) -> tuple[Any, list[Any]]:
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        return base, metadata
    return annotation, []


def value_strategy(annotation: Any, metadata: list[Any], live: bool) -> st.SearchStrategy[Any]:
    """A valid value for a field, read from its annotation: a new field type fails loudly."""
    annotation, more = _annotated(annotation)
    metadata = [*metadata, *more]
    origin = typing.get_origin(annotation)
    if annotation is AwareDatetime:
        return good_times(live)
    if annotation is date:  # a date of birth: a child when referred, never after it
        return st.builds(At, st.just("born"), st.floats(0, 1))
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return st.none() | st.one_of(*(value_strategy(a, [], live) for a in options))
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return st.lists(value_strategy(item, [], live), max_size=4)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from([m.value for m in annotation])
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), -(2**31))
        high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), 2**31)
        return st.integers(_whole(low), _whole(high))
    if annotation is str:
        return _text(_constraints(metadata))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _item_of(annotation, live)
    raise TypeError(f"no strategy for a field annotated {annotation!r}: add one here")


def _whole(bound: object) -> int:
    """An int field's bound, which annotated_types types only as comparable."""
    assert isinstance(bound, int), f"an int field bounded by {bound!r}: add it here"
    return bound


def _item_of(model: type[BaseModel], live: bool) -> st.SearchStrategy[dict[str, Any]]:
    """An item of a list of small models (a MASE decision's actions): its times are deadlines,
    due after anything the event says happened, so each is placed beyond the clock skew."""
    deadlines = st.builds(At, st.just("future"), seconds=st.floats(0, 3e7))
    parts = {
        name: deadlines
        if _annotated(field.annotation)[0] is AwareDatetime
        else value_strategy(field.annotation, field.metadata, live)
        for name, field in model.model_fields.items()
    }
    return st.fixed_dictionaries(parts)


@functools.cache
def valid_payloads(model: type[BaseModel], live: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Every required field, and each optional one half the time, with a valid value."""
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in model.model_fields.items():
        values = (
            st.none()  # a code the directory lists is the only valid one; the tests have none
            if name in _AUTHORITIES
            else value_strategy(field.annotation, field.metadata, live)
        )
        parts[name] = values if field.is_required() else st.one_of(st.just(_ABSENT), values)
    return st.fixed_dictionaries(parts).map(
        lambda d: {k: v for k, v in d.items() if v is not _ABSENT}
    )


_ABSENT = object()
_AUTHORITIES = frozenset({"placing_authority", "host_authority"})

# ---------------------------------------------------------------------------- hostile values

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value at all (NaN and the infinities included: Python's json writes them)."""

HUGE = st.sampled_from([4_001, 10_000, 100_000]).map(lambda n: "Ω" * (n // 2) + "x" * (n - n // 2))
ODD_TEXT = st.sampled_from(
    ["", " ", "\t\n", "\x00", "\ud800", "\u202eevil", "🧒🏽" * 50, "a\u0000b", "NULL", "None"]
) | st.text(min_size=1, max_size=40)
ODD_NUMBERS = st.sampled_from(
    [-1, 4, 3.0, 2.5, "2", True, False, 2**64, -(2**63), 1e308, "Infinity"]
)


@functools.cache
def edge_values(annotation: Any, live: bool) -> st.SearchStrategy[Any]:
    """Values next to a field's rule, or of the wrong kind for it."""
    annotation, _ = _annotated(annotation)
    if annotation is AwareDatetime or AwareDatetime in typing.get_args(annotation):
        return bad_times(live)
    if typing.get_origin(annotation) is list:
        return st.sampled_from([["not_a_member"], "a string", {}, [None], [[]], ["x"] * 300])
    choices = typing.get_args(annotation) or [
        m.value for m in getattr(annotation, "__members__", {}).values()
    ]
    if choices and all(isinstance(c, str) for c in choices):
        spoiled = (
            [f" {c} " for c in choices] + [c.upper() for c in choices] + [c[:-1] for c in choices]
        )
        return st.sampled_from([*spoiled, "", "unknown", 0, None])
    if annotation is bool:
        return st.sampled_from(["true", "yes", 1, 0, 2, "", [], None])
    if annotation is int:
        return ODD_NUMBERS
    return ODD_TEXT | HUGE


_DROP = object()


@functools.cache
def near_valid(model: type[BaseModel], live: bool) -> st.SearchStrategy[Sent]:
    """A valid payload with one field spoiled: dropped, null, of the wrong type, next to its
    rule, huge, any unicode, a bad time, or joined by a key the model does not have."""
    fields = model.model_fields
    spoilers: list[st.SearchStrategy[tuple[str, str, Any]]] = []
    for name, field in fields.items():
        annotation = cast(Hashable, field.annotation)  # a type form: hashable, as the cache needs
        spoilers += [
            st.just(("drop", name, _DROP)),
            st.just(("null", name, None)),
            st.tuples(st.just("wrong_type"), st.just(name), json_values),
            st.tuples(st.just("edge"), st.just(name), edge_values(annotation, live)),
            st.tuples(st.just("huge"), st.just(name), HUGE),
            st.tuples(st.just("unicode"), st.just(name), st.text(min_size=1, max_size=60)),
        ]
        if "datetime" in str(field.annotation).lower():
            spoilers.append(st.tuples(st.just("time"), st.just(name), bad_times(live)))
    extra_keys = st.text(max_size=15).filter(lambda k: k not in fields)
    spoilers.append(st.tuples(st.just("extra"), extra_keys, json_values))
    return st.tuples(valid_payloads(model, live), st.one_of(spoilers)).map(_spoil)


def _spoil(drawn: tuple[dict[str, Any], tuple[str, str, Any]]) -> Sent:
    payload, (how, name, value) = drawn
    if value is _DROP:
        payload.pop(name, None)
    else:
        payload[name] = value
    return Sent(f"near_valid:{how}", payload)


RAW_TEXTS = [
    b"",
    b"{",
    b"\xff\xfe{}",
    b"\xef\xbb\xbf{}",
    b"[" * 3000 + b"]" * 3000,
    b'{"a":' * 600 + b"1" + b"}" * 600,
    b"9" * 5000,
    b'{"actor": "a", "actor": "b"}',
    b"{'single': 'quotes'}",
    b"[1, 2,]",
    b'"\\ud800"',
]


@functools.cache
def payloads(model: type[BaseModel], live: bool = False) -> st.SearchStrategy[Sent]:
    """The mix: three in ten valid payloads of `model`, four in ten near-valid, and a tenth
    each of arbitrary JSON, the model's own keys with any values, and bytes that may not
    even be JSON. (Strategies are built once: building them per example costs more than
    judging the payload.)"""
    valid = valid_payloads(model, live).map(lambda d: Sent("valid", d))
    spoiled = near_valid(model, live)
    names = st.sampled_from(sorted(model.model_fields))
    keys = st.dictionaries(names, json_values, max_size=8).map(lambda d: Sent("keys", d))
    raw = (st.sampled_from(RAW_TEXTS) | st.binary(max_size=40)).map(lambda b: Sent("raw", raw=b))
    anything = json_values.map(lambda v: Sent("json", v))
    mix = [valid] * 3 + [spoiled] * 4 + [anything, keys, raw]
    return st.sampled_from(mix).flatmap(lambda strategy: strategy)
