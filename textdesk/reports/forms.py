import re
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.conf import settings
from django.utils import timezone

from textdesk.dashboards.hours import DAYS

PERIODS = [("today", "Today"), ("7", "Last 7 days"), ("30", "Last 30 days"), ("custom", "Custom")]
LONGEST = 366


class ReportFilterForm(forms.Form):
    """The period, line and agent of the Reports page (a GET form: bad input is a message)."""

    period = forms.ChoiceField(choices=PERIODS, required=False)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    line = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Phone line")
    agent = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, data, *, lines, agents, agent_locked: bool):
        super().__init__(data)
        self.lines = {line.pk: line for line in lines}
        self.agents = {person.pk: person for person in agents}
        self.agent_locked = agent_locked
        self.fields["line"].choices = [("", "All my lines" if agent_locked else "All lines")] + [
            (line.pk, line.name) for line in lines
        ]
        self.fields["agent"].choices = ([] if agent_locked else [("", "Everyone")]) + [
            (person.pk, person.display_name) for person in agents
        ]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        period = data.get("period") or "30"
        data["period"] = period
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("Choose both the first and the last day.")
            if start > end:
                raise forms.ValidationError("The first day must come before the last day.")
            if (end - start).days + 1 > LONGEST:
                raise forms.ValidationError(f"Choose at most {LONGEST} days.")
        elif period == "today":
            start = end = today
        else:
            start, end = today - timedelta(days=int(period) - 1), today
        data["start"], data["end"] = start, end
        return data

    def scope(self) -> tuple[list, object, date, date]:
        """(lines, agent or None, first day, last day) of a valid form."""
        data = self.cleaned_data
        lines = [self.lines[data["line"]]] if data.get("line") else list(self.lines.values())
        if self.agent_locked:
            agent = next(iter(self.agents.values()))
        else:
            agent = self.agents.get(data.get("agent"))
        return lines, agent, data["start"], data["end"]


def _zones() -> list[tuple[str, str]]:
    # US lines first and foremost; the console's own zone is always offered.
    names = {z for z in available_timezones() if z.startswith(("America/", "Pacific/"))}
    names.add(settings.TIME_ZONE)
    return [(name, name.replace("_", " ")) for name in ["UTC", *sorted(names - {"UTC"})]]


class BusinessHoursForm(forms.Form):
    """A line's weekly hours: open around the clock, or per day an opening and closing time."""

    is_always_open = forms.BooleanField(required=False, label="Open 24 hours, 7 days")
    time_zone = forms.ChoiceField(choices=_zones)
    holidays = forms.CharField(
        required=False,
        label="Holidays",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Dates closed all day, one a line as YYYY-MM-DD (e.g. 2026-12-25).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i, name in enumerate(DAYS):
            self.fields[f"open_{i}"] = forms.TimeField(
                required=False,
                label=f"{name} opens",
                widget=forms.TimeInput(attrs={"type": "time"}),
            )
            self.fields[f"close_{i}"] = forms.TimeField(
                required=False,
                label=f"{name} closes",
                widget=forms.TimeInput(attrs={"type": "time"}),
            )

    def day_fields(self):
        return [(name, self[f"open_{i}"], self[f"close_{i}"]) for i, name in enumerate(DAYS)]

    def clean_holidays(self) -> list[str]:
        """One date a line (commas too); a wrong one is named, none is dropped silently."""
        days, wrong = set(), []
        for entry in re.split(r"[\s,;]+", self.cleaned_data.get("holidays") or ""):
            if not entry:
                continue
            try:
                days.add(date.fromisoformat(entry))
            except ValueError:
                wrong.append(entry)
        if wrong:
            raise forms.ValidationError(
                f"Not a date: {', '.join(wrong[:5])}. Write each as YYYY-MM-DD, one a line."
            )
        if len(days) > 366:
            raise forms.ValidationError("At most 366 holidays.")
        return [d.isoformat() for d in sorted(days)]

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"]
        ZoneInfo(name)
        return name

    def clean(self):
        data = super().clean()
        weekly = []
        for i, name in enumerate(DAYS):
            opens, closes = data.get(f"open_{i}"), data.get(f"close_{i}")
            if (opens is None) != (closes is None):
                self.add_error(f"close_{i}", f"Give {name} both times, or neither (closed).")
                weekly.append(None)
            elif opens is None:
                weekly.append(None)
            elif closes != time(0) and closes <= opens:
                self.add_error(
                    f"close_{i}", f"{name} must close after it opens (00:00 means midnight)."
                )
                weekly.append(None)
            else:
                weekly.append([opens.strftime("%H:%M"), closes.strftime("%H:%M")])
        if not data.get("is_always_open") and not any(weekly) and not self.errors:
            raise forms.ValidationError(
                "Give the hours of at least one day, or choose open 24 hours, 7 days."
            )
        data["weekly"] = weekly
        return data

    @classmethod
    def initial_for(cls, row) -> dict:
        if row is None:
            return {"is_always_open": True, "time_zone": settings.TIME_ZONE}
        initial = {
            "is_always_open": row.is_always_open,
            "time_zone": row.time_zone,
            "holidays": "\n".join(row.holidays or []),
        }
        for i, entry in enumerate(row.weekly or []):
            if entry:
                initial[f"open_{i}"], initial[f"close_{i}"] = entry
        return initial
