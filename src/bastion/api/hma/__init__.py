"""A Meta Hasher-Matcher-Actioner (HMA 2.x, "OpenMediaMatch") compatible API.

Same paths, parameters and response shapes as HMA's ``/h`` (hashing), ``/m`` (matching) and ``/c``
(curation) blueprints, so a platform or review tool written for HMA can point at Bastion; unlike
HMA, every route needs an API key. docs/hma-compatibility.md maps each route and its differences.
"""

from __future__ import annotations

from fastapi import APIRouter

from bastion.api.hma import curation, hashing, matching

router = APIRouter()
for _module in (hashing, matching, curation):
    router.include_router(_module.router)

__all__ = ["router"]
