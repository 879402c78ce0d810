# One way of writing dates and times across textdesk ("Nov 27, 2026, 10:30 AM"), instead of
# Django's English defaults ("Nov. 27, 2026, 10:30 a.m.") mixed with explicit formats.
DATE_FORMAT = "M j, Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "M j, Y, g:i A"
SHORT_DATE_FORMAT = "m/d/Y"
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
