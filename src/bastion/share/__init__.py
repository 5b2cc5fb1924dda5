"""Sharing with other organisations: the STIX 2.1 profile of bank entries (``stix.py``, see
``docs/stix-profile.md``) and signed feeds with an Ed25519 instance identity (``signing.py``)."""
