"""Outgoing mail through SMTP (host and port from the environment)."""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from email_validator import EmailNotValidError, validate_email

from o2c.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class MailSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "o2c@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 15.0

    @classmethod
    def from_env(cls) -> MailSettings:
        return cls(host=os.environ.get("O2C_SMTP_HOST", "127.0.0.1"),
                   port=int(os.environ.get("O2C_SMTP_PORT", "25")),
                   sender=os.environ.get("O2C_SMTP_FROM", "o2c@localhost"),
                   user=os.environ.get("O2C_SMTP_USER", ""),
                   password=os.environ.get("O2C_SMTP_PASSWORD", ""),
                   starttls=os.environ.get("O2C_SMTP_STARTTLS", "") == "1")


def normalise_email(value: str, field: str = "email") -> str:
    """An address invoices can be sent to ("" stays empty): checked for syntax and a domain
    that can exist (no DNS lookup), its domain lower-cased."""
    value = value.strip()
    if not value:
        return ""
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as error:
        raise InvalidInput(f"{value!r} is not an e-mail address: {error}", field=field) from None


@dataclass(frozen=True, slots=True)
class Attachment:
    file_name: str
    media_type: str
    content: bytes


def build_message(settings: MailSettings, *, to: str, subject: str, body: str,
                  message_id: str, attachments: list[Attachment]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body)
    for a in attachments:
        maintype, subtype = a.media_type.split("/", 1)
        message.add_attachment(a.content, maintype=maintype, subtype=subtype,
                               filename=a.file_name)
    return message


class SmtpMailer:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password)
            smtp.send_message(message)
