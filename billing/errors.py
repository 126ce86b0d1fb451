"""The one error billing rules raise for a request they refuse."""

from __future__ import annotations


class BillingRejected(ValueError):
    """Nothing was changed; the message says why. ``param`` names the input at fault when
    the refusal is about one (the API answers it as a 422 naming it; else the client's
    state refused it: a 409)."""

    def __init__(self, message: str = "", *, param: str | None = None):
        super().__init__(message)
        self.param = param
