"""Rendering form fields accessibly with Bootstrap's classes, for our forms and allauth's."""

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def widget(field: forms.BoundField) -> SafeString:
    """The field's widget with Bootstrap's class and ARIA links to its help text and errors."""
    input_type = getattr(field.field.widget, "input_type", None)
    if input_type in {"checkbox", "radio"}:
        css = "form-check-input"
    elif isinstance(field.field.widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}_help")
    if field.errors:
        described_by.append(f"{field.auto_id}_errors")
    attrs: dict[str, str | bool] = {"class": css}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field: forms.BoundField) -> bool:
    return getattr(field.field.widget, "input_type", None) == "checkbox"
