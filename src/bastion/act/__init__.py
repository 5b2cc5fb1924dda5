"""Acting on a decision outside Bastion: telling a platform what was found, so it can act."""

from bastion.act.webhook import WebhookAction, WebhookResult, sign, verify_signature

__all__ = ["WebhookAction", "WebhookResult", "sign", "verify_signature"]
