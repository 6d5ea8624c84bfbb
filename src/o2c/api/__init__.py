"""The REST API (FastAPI): `create_app()` returns the ASGI application."""

from o2c.api.app import create_app

__all__ = ["create_app"]
