"""What every router of the HTTP API shares (:mod:`app.api`, :mod:`app.api_openai`): role dependencies, headers.

Kept apart from :mod:`app.api_auth` so that the command line, which reads tokens, does not import FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from app.api_auth import Caller, Role

#: Header naming the index version an answer or search result came from.
INDEX_HEADER = "X-Icrag-Index"


def needs(role: Role) -> Callable[..., Caller]:
    """A route dependency: the caller, when their token has ``role`` and is within its rate limit.

    It reads ``auth`` and ``limiter`` from the app's ``state.service`` (:class:`app.api.Service`),
    so every router of the API shares one set of tokens and limits.
    """

    def dependency(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
        service = request.app.state.service
        caller: Caller = service.auth.require(authorization, role)
        if not service.auth.open:  # the limit is per token; an open server on loopback has none
            service.limiter.check(caller.key)
        return caller

    return dependency


Reader = Annotated[Caller, Depends(needs("reader"))]
Curator = Annotated[Caller, Depends(needs("curator"))]
Admin = Annotated[Caller, Depends(needs("admin"))]
