"""Forms of the public catalog: the search and filter form (submitted with GET)."""

from collections.abc import Iterable

from django import forms

from ..models import Category, Course, Semester, Venue
from ..selectors import ALL_SEMESTERS, TIME_OF_DAY, WEEKDAYS, CatalogFilters


class CatalogFilterForm(forms.Form):
    """Search and filters for the catalog. Always bound to ``request.GET``.

    Nothing here is required, and a value that does not validate (a hand-edited URL, an old
    bookmark) never breaks the page: :meth:`filters` keeps only the valid fields and
    :meth:`ignored_labels` names the ones it dropped, so the page can say so.
    """

    q = forms.CharField(
        label="Search",
        max_length=100,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title, topic or instructor"}),
    )
    semester = forms.ChoiceField(label="Semester", required=False)
    category = forms.ChoiceField(label="Category", required=False)
    audience = forms.ChoiceField(
        label="Who it’s for", required=False, choices=[("", "Everyone"), *Course.Audience.choices]
    )
    weekday = forms.TypedChoiceField(
        label="Day of the week", required=False, coerce=int, empty_value=None, choices=[("", "Any day"), *WEEKDAYS]
    )
    time_of_day = forms.ChoiceField(
        label="Time of day",
        required=False,
        choices=[("", "Any time"), *((key, label) for key, (label, _first, _last) in TIME_OF_DAY.items())],
    )
    venue = forms.ChoiceField(label="Location", required=False)
    has_seats = forms.BooleanField(label="Only classes with open seats", required=False)

    def __init__(
        self,
        data=None,
        *,
        categories: Iterable[Category] = (),
        venues: Iterable[Venue] = (),
        semesters: Iterable[Semester] = (),
        with_category: bool = True,
        **kwargs,
    ):
        super().__init__(data, **kwargs)
        semesters = list(semesters)
        if len(semesters) > 1:
            self.fields["semester"].choices = [(ALL_SEMESTERS, "All semesters")] + [(s.slug, s.name) for s in semesters]
        else:
            del self.fields["semester"]
        if with_category:
            self.fields["category"].choices = [("", "All categories")] + [(c.slug, c.name) for c in categories]
        else:
            del self.fields["category"]
        self.fields["venue"].choices = [("", "All locations")] + [(v.slug, v.name) for v in venues]

    def _valid(self) -> dict:
        """The cleaned values of the fields that validated (``is_valid()`` runs once)."""
        self.is_valid()
        return self.cleaned_data

    def filters(self) -> CatalogFilters:
        data = self._valid()
        return CatalogFilters(
            q=data.get("q") or "",
            category=data.get("category") or "",
            audience=data.get("audience") or "",
            weekday=data.get("weekday"),
            time_of_day=data.get("time_of_day") or "",
            venue=data.get("venue") or "",
            has_seats=bool(data.get("has_seats")),
            semester=data.get("semester") or "",
        )

    def ignored_labels(self) -> list[str]:
        """Labels of the filters whose values were not understood (and so not applied)."""
        self._valid()
        return [str(self.fields[name].label) for name in self.errors if name in self.fields]

    def is_filtered(self) -> bool:
        """Whether any filter is in effect (a search), the choice of semester aside."""
        return self.filters() != CatalogFilters(semester=self.filters().semester)
