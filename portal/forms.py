"""Forms of the portal. Tenant fields are never bound from input."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField


class TermsForm(FlaskForm):
    """A new version of the terms; ``portal.terms.publish`` decides what is allowed
    (the form only reads the text: its limits are the rule's, with the rule's message)."""

    body = TextAreaField()
    # "preview" shows the text rendered without publishing it.
    action = HiddenField()


class ArticleForm(FlaskForm):
    """An article of the knowledge base; ``portal.knowledge.clean`` decides what is
    allowed (the form only reads the text, with the rule's limits and messages)."""

    title = StringField()
    body = TextAreaField()
    category = StringField()
    tags = StringField()
    visibility = SelectField(validate_choice=False)
    desk_ids = SelectMultipleField(coerce=int, validate_choice=False)
    # "preview" shows the text rendered without saving it.
    action = HiddenField()
