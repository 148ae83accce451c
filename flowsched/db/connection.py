"""Connections: where external systems are and how to log in to them
(docs/how-to/variables-connections.md)."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flowsched.db.base import Base
from flowsched.exceptions import ConnectionNotFound as ConnectionNotFound  # re-exported
from flowsched.masking import register_secret

ENV_PREFIX = "FLOWSCHED_CONN_"


class Connection(Base):
    __tablename__ = "connection"

    conn_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    conn_type: Mapped[str] = mapped_column(String(500), default="generic")
    description: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(500))
    schema: Mapped[str | None] = mapped_column(String(500))
    login: Mapped[str | None] = mapped_column(Text)
    password: Mapped[str | None] = mapped_column(Text)
    port: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[str | None] = mapped_column(Text)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return json.loads(self.extra) if self.extra else {}

    @classmethod
    def from_uri(cls, conn_id: str, uri: str) -> Connection:
        """Airflow's URI form: ``type://login:password@host:port/schema?extra=..``."""
        parts = urlsplit(uri)
        if not parts.scheme:
            raise ValueError(f"connection {conn_id}: {uri!r} is not a URI (type://...)")
        extra = dict(item.split("=", 1) for item in parts.query.split("&") if "=" in item)
        return cls(
            conn_id=conn_id,
            conn_type=parts.scheme.replace("-", "_"),
            host=unquote(parts.hostname or "") or None,
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            port=parts.port,
            schema=unquote(parts.path.lstrip("/")) or None,
            extra=json.dumps({k: unquote(v) for k, v in extra.items()}) if extra else None,
        )

    def get_uri(self) -> str:
        auth = ""
        if self.login or self.password:
            auth = quote(self.login or "", safe="")
            if self.password:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        port = f":{self.port}" if self.port else ""
        schema = f"/{quote(self.schema, safe='')}" if self.schema else ""
        return f"{self.conn_type.replace('_', '-')}://{auth}{self.host or ''}{port}{schema}"

    @classmethod
    def get_connection_from_secrets(cls, conn_id: str) -> Connection:
        """Environment first (``FLOWSCHED_CONN_<ID>``), then the database."""
        uri = os.environ.get(ENV_PREFIX + conn_id.upper())
        connection = cls.from_uri(conn_id, uri) if uri else cls._from_db(conn_id)
        if connection.password:
            register_secret(connection.password)
        return connection

    @classmethod
    def _from_db(cls, conn_id: str) -> Connection:
        from flowsched.db import session_scope

        with session_scope(readonly=True) as session:
            row = session.get(cls, conn_id)
            if row is None:
                raise ConnectionNotFound(f"connection {conn_id!r} is not defined")
            session.expunge(row)
            return row
