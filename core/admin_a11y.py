"""Accessible names for the Django admin's controls that have no ``<label>`` of their own.

The admin's split date-and-time widget renders two inputs under one label that points at
neither ("Date:" and "Time:" are plain text), and a tabular inline shows its rows' controls
under column headers only. Screen readers then announce "edit text, blank". These helpers give
every such input an ``aria-label``: "Registration opens at (date)", "Meeting 3 starts (time)",
"Meeting 3 venue", "Delete meeting 3".
"""

from django.contrib.admin.widgets import AdminSplitDateTime, RelatedFieldWidgetWrapper
from django.forms import Field


def _name_split(field: Field, name: str) -> None:
    date, time = field.widget.widgets
    date.attrs["aria-label"] = f"{name} (date)"
    time.attrs["aria-label"] = f"{name} (time)"


def name_field(field: Field, name: str) -> None:
    """Give ``field``'s input(s) the accessible name ``name`` (both halves of a split datetime)."""
    widget = field.widget
    if isinstance(widget, AdminSplitDateTime):
        _name_split(field, name)
        return
    if isinstance(widget, RelatedFieldWidgetWrapper):  # its own attrs are not copied per form
        widget = widget.widget
    widget.attrs["aria-label"] = name


class NamedSplitDateTimeMixin:
    """For a ModelAdmin: its date-and-time fields' two inputs are named "<label> (date)/(time)"."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(field.widget, AdminSplitDateTime):
            _name_split(field, str(field.label))
        return field


class NamedRowsFormSetMixin:
    """For an inline formset shown as a table: each row's controls are named for the row
    ("Meeting 3 starts (date)", "Meeting 3 venue", "Delete meeting 3"); the empty row the
    "Add another" link copies is "New meeting …"."""

    row_name = "Row"

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = f"{self.row_name} {index + 1}" if index is not None else f"New {self.row_name.lower()}"
        for name, field in form.fields.items():
            if field.widget.is_hidden:
                continue
            if name == "DELETE":
                name_field(field, f"Delete {row[0].lower()}{row[1:]}")
            else:
                name_field(field, f"{row} {str(field.label).lower()}")
