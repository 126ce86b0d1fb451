"""Forms of the portal. Tenant fields are never bound from input."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField


class TermsForm(FlaskForm):
    """A new version of the terms; ``portal.terms.publish`` decides what is allowed
    (the form only reads the text: its limits are the rule's, with the rule's message)."""

    body = TextAreaField()
    # "preview" shows the text rendered without publishing it.
    action = HiddenField()
