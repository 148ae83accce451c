"""EmailOperator: send an HTML e-mail through the ``[smtp]`` server that alerts use."""

from __future__ import annotations

import dataclasses
import mimetypes
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from flowsched.authoring.baseoperator import BaseOperator, email_list
from flowsched.config import conf

DEFAULT_CONN_ID = "smtp_default"


class EmailOperator(BaseOperator):
    """Sends ``html_content`` to ``to`` (plus ``cc``/``bcc``), with ``files`` attached.

    The server is the ``[smtp]`` one; the ``conn_id`` connection (``smtp_default`` if
    there is one) supplies the login and password, as in Airflow. A refused or failed
    send fails the task.
    """

    template_fields = ("to", "subject", "html_content", "files")
    template_ext = (".html",)
    ui_color = "#e6faf9"

    def __init__(
        self,
        *,
        to: list[str] | str,
        subject: str,
        html_content: str,
        files: list[str] | None = None,
        cc: list[str] | str | None = None,
        bcc: list[str] | str | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        conn_id: str | None = None,
        custom_headers: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to = to
        self.subject = subject
        self.html_content = html_content
        self.files = files or []
        self.cc = cc
        self.bcc = bcc
        self.mime_subtype = mime_subtype
        self.mime_charset = mime_charset
        self.conn_id = conn_id
        self.custom_headers = custom_headers

    def execute(self, context: dict[str, Any]) -> None:
        from flowsched.notify.email import send_email

        message = self.message()
        settings = _smtp_settings(self.conn_id or DEFAULT_CONN_ID)
        self.log.info("Sending e-mail %r to %s", self.subject, message["To"])
        send_email(message, settings)

    def message(self) -> EmailMessage:
        """The e-mail to send, from the rendered fields."""
        message = EmailMessage()
        message["Subject"] = self.subject
        message["From"] = conf.smtp.mail_from
        message["To"] = ", ".join(email_list(self.to))
        for header, addresses in (("Cc", self.cc), ("Bcc", self.bcc)):
            if addresses:
                message[header] = ", ".join(email_list(addresses))
        message["Date"] = formatdate(localtime=True)
        for name, value in (self.custom_headers or {}).items():
            message[name] = value
        message.set_content(self.html_content, subtype="html", charset=self.mime_charset)
        if self.files:
            message.make_mixed()
            if self.mime_subtype != "mixed":
                message.set_type(f"multipart/{self.mime_subtype}")
            for path in map(Path, self.files):
                _attach(message, path)
        return message


def _attach(message: EmailMessage, path: Path) -> None:
    kind, _ = mimetypes.guess_type(path.name)
    maintype, subtype = (kind or "application/octet-stream").split("/", 1)
    message.add_attachment(
        path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
    )


def _smtp_settings(conn_id: str) -> Any:
    """``[smtp]``, with the connection's login and password when the connection exists."""
    from flowsched.db.connection import Connection, ConnectionNotFound
    from flowsched.notify.email import SmtpSettings

    settings = SmtpSettings.from_conf()
    try:
        connection = Connection.get_connection_from_secrets(conn_id)
    except ConnectionNotFound:
        return settings
    return dataclasses.replace(
        settings, user=connection.login or "", password=connection.password or ""
    )
