"""Append-only, hash-chained audit log of every change and decision."""

from bastion.audit.log import AuditEvent, AuditLog, ChainReport

__all__ = ["AuditEvent", "AuditLog", "ChainReport"]
