"""GOV.UK Notify: which template each kind of notification uses, and what fills it in.

Notify sends what a template, written in Notify's own admin pages, says; this service sends the
template's id and its personalisation. The templates file (TOML, CSE_GOVUK_NOTIFY_TEMPLATES;
example: config/govuk-notify-templates.example.toml) gives one template per kind of
notification, a table per kind of message:

    [email]                                  # needed when email goes through Notify
    clock_step = "<template id (uuid)>"      # every NotificationKind: clock_step, allocation,
    allocation = "..."                       # missing_episode, consultation, delivery_failed,
    [sms]                                    # mase_agenda, oversight_report
    clock_step = "..."                       # needed when the directory has phone numbers

Personalisation, the same four fields for every kind (a template uses those it needs):
`case_reference` (the referral id; a panel run's name for the panel's documents), `what`
(what is due or overdue, or what happened), `when` (the deadline in Europe/London, empty when
there is none) and `link`. Never the child, the summary or the concerns.

NotifyTemplateError   the file is missing, not TOML, invalid, or lacks a table or kind needed
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from pydantic import BaseModel, ConfigDict, model_validator

from domain.calendar import LONDON
from domain.directory import AddressKind
from domain.notifications import Notification, NotificationKind, what_is_due

PERSONALISATION_FIELDS = ("case_reference", "what", "when", "link")

_PANEL_DOCUMENTS = {
    NotificationKind.mase_agenda: "panel agenda",
    NotificationKind.oversight_report: "oversight report",
}


class NotifyTemplateError(Exception):
    """The templates file cannot be used; the message names the file and the field."""


Templates = dict[NotificationKind, UUID]


class NotifyTemplates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    email: Templates | None = None
    sms: Templates | None = None

    @model_validator(mode="after")
    def _every_kind(self) -> NotifyTemplates:
        for table, templates in (("email", self.email), ("sms", self.sms)):
            if templates is None:
                continue
            missing = [k.value for k in NotificationKind if k not in templates]
            if missing:
                raise ValueError(f"{table}: no template for {', '.join(missing)}")
        return self

    def template_id(self, kind: AddressKind, notification: NotificationKind) -> str:
        table = self.email if kind == AddressKind.email else self.sms
        if table is None:
            raise NotifyTemplateError(f"no [{kind.value}] templates")
        return str(table[notification])

    def lacks(self, kinds: Iterable[AddressKind]) -> list[AddressKind]:
        """The kinds of message asked for that have no table of templates."""
        have = {AddressKind.email: self.email, AddressKind.sms: self.sms}
        return [k for k in kinds if have.get(k) is None]


def personalisation(notification: Notification, link: str) -> dict[str, str]:
    """What fills a template in: the case reference, what is due, when, and the link."""
    when = ""
    if notification.due_at is not None:
        due = notification.due_at.astimezone(LONDON)
        when = f"{due.strftime('%A %d %B %Y, %H:%M')} (Europe/London)"
    return {
        "case_reference": notification.referral_id,
        "what": _what(notification),
        "when": when,
        "link": link,
    }


def _what(notification: Notification) -> str:
    if notification.kind in _PANEL_DOCUMENTS:
        return _PANEL_DOCUMENTS[notification.kind]
    if notification.clock is not None and notification.step is not None:
        return what_is_due(notification.clock, notification.step)
    # An event's own notice: its subject is `Case <reference>: <what happened>`.
    return notification.subject.removeprefix(f"Case {notification.referral_id}: ")
