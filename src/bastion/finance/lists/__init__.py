"""Sanctions lists: streamed readers for the official files, into one :class:`ListEntity` shape."""
