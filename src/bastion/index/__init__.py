"""Indexes: one per signal type, answering "which known values are near this one?"."""
