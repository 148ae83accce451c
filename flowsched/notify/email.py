"""Alert e-mails: what they say (``render_email``) and how they leave (``send_email``).

The message names everything an on-call person needs without opening the UI (DAG, task,
run, logical date, try, the end of the log) plus a link to the log page. Sending retries
only what certainly did not reach the server, so one failed try never becomes two mails.
"""

from __future__ import annotations

import hashlib
import html
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

from flowsched.config import conf
from flowsched.notify.events import TaskEvent, mask
from flowsched.notify.logtail import TAIL_LINES, tail_lines
from flowsched.notify.retry import with_retries, worst_case

logger = logging.getLogger("flowsched.notify")


@dataclass(frozen=True)
class SmtpSettings:
    """The ``[smtp]`` section, read once per send so one send sees one consistent config."""

    host: str
    port: int
    starttls: bool
    ssl: bool
    user: str
    password: str = field(repr=False)
    mail_from: str
    timeout: float
    retries: int

    @classmethod
    def from_conf(cls) -> SmtpSettings:
        return cls(
            host=conf.smtp.host,
            port=conf.smtp.port,
            starttls=conf.smtp.starttls,
            ssl=conf.smtp.ssl,
            user=conf.smtp.user,
            password=conf.smtp.password,
            mail_from=conf.smtp.mail_from,
            timeout=conf.smtp.timeout,
            retries=conf.smtp.retries,
        )

    @property
    def worst_case(self) -> float:
        """Longest a ``send_email`` with these settings should take."""
        return worst_case(self.timeout, self.retries)


class DeliveryUnknown(Exception):
    """The connection broke after the message was handed over: it may have been delivered.

    Not retried, because a second attempt could send a second mail for the same try.
    """


# ---- rendering ----------------------------------------------------------------------


def _facts(event: TaskEvent) -> list[tuple[str, str]]:
    date = event.logical_date.isoformat() if event.logical_date else "unknown"
    rows = [("DAG", event.dag_id)]
    if event.task_id is not None:
        rows.append(("Task", event.task_id))
        if event.map_index >= 0:
            rows.append(("Map index", str(event.map_index)))
    rows += [("Run", event.run_id), ("Logical date", date)]
    if event.task_id is not None:
        rows.append(("Try", f"{event.try_number} of {event.max_tries}"))
    rows += [("State", event.state or "unknown"), ("Host", event.hostname)]
    if event.exception:
        rows.append(("Exception", mask(event.exception)))
    return rows


def _log_section(event: TaskEvent) -> tuple[str, list[str]] | None:
    """(heading, lines) for the end of the try's log, or None when there is no log."""
    if event.log_path is None:
        return None
    try:
        lines = tail_lines(event.log_path, TAIL_LINES)
    except OSError as exc:
        return f"Log file {event.log_path} could not be read: {exc.strerror or exc}", []
    heading = f"Last {len(lines)} lines of the log ({event.log_path}):"
    return heading, [mask(line) for line in lines]


def _link_label(event: TaskEvent) -> str:
    return "Run" if event.task_id is None else "Log"


def _plain_body(event: TaskEvent, log: tuple[str, list[str]] | None) -> str:
    rows = _facts(event)
    width = max(len(label) for label, _ in rows) + 2
    parts = [event.headline, ""]
    parts += [f"{label + ':':<{width}}{value}" for label, value in rows]
    parts += ["", f"{_link_label(event)}: {event.log_url}"]
    if log is not None:
        heading, lines = log
        parts += ["", heading, *lines]
    return "\n".join(parts) + "\n"


def _html_body(event: TaskEvent, log: tuple[str, list[str]] | None) -> str:
    esc = html.escape
    cell = '<tr><th align="left">{}</th><td style="white-space:pre-wrap">{}</td></tr>'
    rows = "".join(cell.format(esc(label), esc(value)) for label, value in _facts(event))
    url = esc(event.log_url)
    parts = [
        "<html><body>",
        f"<h2>{esc(event.headline)}</h2>",
        f"<table>{rows}</table>",
        f'<p>{esc(_link_label(event))}: <a href="{url}">{url}</a></p>',
    ]
    if log is not None:
        heading, lines = log
        parts.append(f"<h3>{esc(heading)}</h3>")
        parts.append(f"<pre>{esc(chr(10).join(lines))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _message_id(event: TaskEvent, mail_from: str) -> str:
    """The same id for the same try and kind, so mail clients fold an accidental duplicate."""
    ids = (event.kind, event.dag_id, event.run_id, event.task_id, event.map_index, event.try_number)
    digest = hashlib.sha256("\0".join(map(str, ids)).encode()).hexdigest()[:32]
    domain = mail_from.rpartition("@")[2] or "localhost"
    return f"<flowsched.{digest}@{domain}>"


def render_email(event: TaskEvent) -> EmailMessage:
    """The alert for ``event``, to ``event.recipients``: plain text with an HTML alternative."""
    mail_from = conf.smtp.mail_from
    log = _log_section(event)
    msg = EmailMessage()
    msg["Subject"] = " ".join(f"[flowsched] {event.headline}".split())
    msg["From"] = mail_from
    msg["To"] = ", ".join(event.recipients)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = _message_id(event, mail_from)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    msg.set_content(_plain_body(event, log))
    msg.add_alternative(_html_body(event, log), subtype="html")
    return msg


# ---- sending ------------------------------------------------------------------------


def _is_transient(exc: Exception) -> bool:
    """True when the server certainly did not take the message and may later."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, OSError | smtplib.SMTPServerDisconnected)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, authenticated session; any failure here is before the message left."""
    context = ssl.create_default_context()
    if settings.ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.starttls and not settings.ssl:
            smtp.starttls(context=context)
        if settings.user:
            smtp.login(settings.user, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _submit(msg: EmailMessage, settings: SmtpSettings) -> None:
    smtp = _connect(settings)
    try:
        refused = smtp.send_message(msg)
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
        smtp.close()
        raise  # the server answered "no": nothing was delivered
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        smtp.close()
        raise DeliveryUnknown(
            f"connection lost while sending, mail may have arrived: {exc}"
        ) from exc
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()  # delivered already; a failed goodbye changes nothing
    if refused:
        logger.error("e-mail %r not delivered to %s", msg["Subject"], ", ".join(sorted(refused)))


def send_email(msg: EmailMessage, settings: SmtpSettings | None = None) -> None:
    """Send ``msg`` through the ``[smtp]`` server, retrying transient failures a few times.

    Each network step waits at most ``[smtp] timeout``; there are at most ``[smtp] retries``
    retries. Raises the last error when the message could not be sent.
    """
    settings = settings or SmtpSettings.from_conf()
    with_retries(lambda: _submit(msg, settings), settings.retries, _is_transient)
