"""Bastion's HTTP API (FastAPI). Thin: parse the request, call the library, render the result."""

from bastion.api.app import create_app

__all__ = ["create_app"]
