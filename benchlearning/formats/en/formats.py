"""English dates: one form everywhere, "6 Dec 2026" and "6 Dec 2026, 14:05".

Unambiguous (no 06/12 that reads as June in the US), and a 24-hour clock, so a sentence that
ends with a time does not end "p.m.." Everything not set here is Django's English.
"""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
