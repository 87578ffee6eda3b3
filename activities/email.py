"""The email channel: one SMTP message per notification to every email address it resolves to.

The message (plain text with an HTML alternative) says which case, what is due or overdue,
when (Europe/London) and where to look; never the child, the summary or the concerns. Its
Message-ID comes from the notification id, so every retry of a notification carries the same
one and a mailbox or relay can recognise a second copy.

Partial failure: recipients the relay accepted are remembered and not sent to again; the
retry goes to the others only. Failures are classified as in activities/delivery.py: relay
down, timeouts, SMTP 4xx and our own relay set-up (authentication, sender refused) are
retried; an SMTP 5xx for a recipient or for the message is a PermanentDeliveryError.
"""

from __future__ import annotations

import html
import string
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from activities.delivery import Delivered, DeliveryUnavailable, Refusal, pending, settle
from domain.calendar import LONDON
from domain.directory import AddressKind, Directory, Recipient
from domain.notifications import Notification, NotificationKind
from domain.roles import Role

CHANNEL = "email"
_SAFE = frozenset(string.ascii_letters + string.digits + "-_")


@dataclass(frozen=True)
class SmtpRelay:
    """Where and how to hand mail over; `sender` is the From address (CSE_NOTIFY_FROM)."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout_seconds: float = 10.0

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]


def message_id(notification_id: str, sender: str) -> str:
    """`<id@domain>`: the id with every other character as =XX (UTF-8), so it is one-to-one."""
    local = "".join(
        c if c in _SAFE else "".join(f"={b:02X}" for b in c.encode()) for c in notification_id
    )
    _, at, domain = parseaddr(sender)[1].rpartition("@")
    return f"<{local}@{domain.lower() if at and domain else 'cse.invalid'}>"


def compose(
    notification: Notification, link: str, recipients: list[Recipient], sender: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = sender
    message["To"] = ", ".join(r.address for r in recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(notification.notification_id, sender)
    message["Auto-Submitted"] = "auto-generated"
    roles = sorted({role for r in recipients for role in r.roles}, key=str)
    message.set_content(text_body(notification, link, roles))
    message.add_alternative(html_body(notification, link, roles), subtype="html")
    return message


def facts(notification: Notification, link: str, roles: list[Role]) -> list[tuple[str, str]]:
    """What the message says, as (label, value): the case, what is due, when, the link."""
    if notification.kind in _PANEL_KINDS:
        what = _PANEL_KINDS[notification.kind]
        lines = [("Document", what), ("Panel run", notification.referral_id)]
        lines.append(("You receive this as", ", ".join(r.value.replace("_", " ") for r in roles)))
        lines.append((f"Open the {what}", link))
        return lines
    lines = [("Case reference", notification.referral_id), ("Team", notification.team)]
    if notification.clock is not None:
        lines.append(("Deadline", notification.clock.value.replace("_", " ")))
    if notification.step is not None:
        lines.append(("Step", notification.step.value.replace("_", " ")))
    if notification.due_at is not None:
        due = notification.due_at.astimezone(LONDON).strftime("%A %d %B %Y, %H:%M")
        lines.append(("Due", f"{due} (Europe/London)"))
    lines.append(("You receive this as", _receiving_as(notification, roles)))
    lines.append(("Open the case", link))
    return lines


def _receiving_as(notification: Notification, roles: list[Role]) -> str:
    said = [r.value.replace("_", " ") for r in roles]
    if notification.authorities:
        said.append("contact of a local authority named on the case")
    return ", ".join(said)


_NO_DETAILS = (
    "This message carries no details of the child or the concerns: "
    "they are in the case record, behind the link."
)


_PANEL_KINDS = {
    NotificationKind.mase_agenda: "panel agenda",
    NotificationKind.oversight_report: "oversight report",
}


def text_body(notification: Notification, link: str, roles: list[Role]) -> str:
    rows = [f"{label}: {value}" for label, value in facts(notification, link, roles)]
    return "\n".join([notification.subject, "", *rows, "", _NO_DETAILS, ""])


def html_body(notification: Notification, link: str, roles: list[Role]) -> str:
    esc = html.escape
    rows = "".join(
        f'<tr><th align="left">{esc(label)}</th><td>{esc(value)}</td></tr>'
        for label, value in facts(notification, link, roles)[:-1]
    )
    return (
        f"<html><body><p><strong>{esc(notification.subject)}</strong></p>"
        f"<table>{rows}</table>"
        f'<p><a href="{esc(link)}">{esc(facts(notification, link, roles)[-1][0])}</a></p>'
        f"<p>{esc(_NO_DETAILS)}</p></body></html>\n"
    )


class EmailChannel:
    name = CHANNEL

    def __init__(
        self, directory: Directory, relay: SmtpRelay, delivered: Delivered | None = None
    ) -> None:
        self.directory = directory
        self.relay = relay
        self.delivered = delivered or Delivered()

    async def deliver(self, notification: Notification, link: str) -> int:
        nid = notification.notification_id
        kind = AddressKind.email
        recipients = pending(CHANNEL, self.directory, self.delivered, notification, kind)
        if not recipients:
            return 0
        message = compose(notification, link, recipients, self.relay.sender)
        refusals = await self._send(message, recipients)
        refused = {r.address for r in refusals}
        for recipient in recipients:
            if recipient.address not in refused:
                self.delivered.add(nid, recipient.address)
        settle(CHANNEL, nid, refusals)
        return len(recipients)

    async def _send(self, message: EmailMessage, recipients: list[Recipient]) -> list[Refusal]:
        by_address = {r.address: r for r in recipients}
        relay = self.relay
        try:
            async with self._smtp() as smtp:
                errors, _ = await smtp.send_message(
                    message, sender=relay.envelope_sender, recipients=list(by_address)
                )
        except aiosmtplib.SMTPRecipientsRefused as err:
            return [_refusal(by_address, e.recipient, e.code, e.message) for e in err.recipients]
        except aiosmtplib.SMTPDataError as err:
            return [_refusal(by_address, a, err.code, err.message) for a in by_address]
        except (aiosmtplib.SMTPException, OSError) as err:
            where = f"relay {relay.host}:{relay.port}"
            raise DeliveryUnavailable(f"{CHANNEL}: {where} unavailable: {err!r}") from err
        return [_refusal(by_address, a, reply.code, reply.message) for a, reply in errors.items()]

    def _smtp(self) -> aiosmtplib.SMTP:
        relay = self.relay
        return aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            username=relay.username,
            password=relay.password,
            start_tls=relay.starttls,
            timeout=relay.timeout_seconds,
        )


def _refusal(by_address: dict[str, Recipient], address: str, code: int, text: str) -> Refusal:
    known = by_address.get(address)
    roles = known.serves if known else ()
    return Refusal(roles, address, f"SMTP {code} {text.strip()}", permanent=code >= 500)
