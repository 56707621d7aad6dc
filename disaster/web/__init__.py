"""The web service: a JSON API under ``/api/v1`` (``disaster serve``).

Who may see what is decided by ``disaster.access`` only; every read of personal data is recorded
in the audit log (``disaster.auditlog``) with the caller's address.
"""

from disaster.web.app import create_app

__all__ = ["create_app"]
