"""What a person is told after an action.

A page that redirects tells it with a flash (shown by the next page: a toast, or a plain
alert without JavaScript). An htmx request that swaps part of the page has no next page:
its answer names the toast in the ``HX-Trigger`` header, which ``static/app/app.js``
shows (``{"toast": {"message": ..., "level": ...}}``).
"""

from __future__ import annotations

import json

from flask import flash, g, make_response, redirect, request

TOAST_EVENT = "toast"


def is_partial() -> bool:
    """An htmx request that swaps part of the page (not a boosted link or form)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def tell(message: str, level: str = "success") -> None:
    """Tell ``message`` after this request: a flash, or for an htmx request a toast in the
    answer's ``HX-Trigger`` header (see :func:`with_toasts`)."""
    if is_partial():
        g.setdefault("toasts", []).append({"message": str(message), "level": level})
    else:
        flash(message, level)


def toast_trigger(toasts: list[dict]) -> str:
    """The ``HX-Trigger`` value naming these toasts."""
    detail = toasts[0] if len(toasts) == 1 else {"items": toasts}
    # ASCII: a header is Latin-1 on the wire; JSON escapes carry any name.
    return json.dumps({TOAST_EVENT: detail})


def with_toasts(response):
    """``response`` with the toasts this request told, if any, in ``HX-Trigger``."""
    toasts = g.pop("toasts", None)
    if toasts:
        response.headers["HX-Trigger"] = toast_trigger(toasts)
    return response


def back_to(url: str, target: str):
    """After an action, the page at ``url``: a 303 to it, or for an htmx request an
    ``HX-Location`` that swaps ``target`` (a CSS id selector present on both pages) with
    the same part of ``url``, and the toasts told."""
    if not is_partial():
        return redirect(url, 303)
    response = make_response("", 200)
    location = {"path": url, "target": target, "select": target, "swap": "outerHTML"}
    response.headers["HX-Location"] = json.dumps(location)
    return with_toasts(response)


def stay(url: str):
    """After a refused action: the page as it is (an htmx answer with the toasts only, so
    what was typed stays), or without htmx a 303 back to ``url``."""
    if not is_partial():
        return redirect(url, 303)
    return with_toasts(make_response("", 204))
