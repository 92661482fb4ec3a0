"""Latvian dates: one numeric form everywhere, "06.12.2026." and "06.12.2026. 14:05".

A spelled-out month must change its case with the sentence ("kopš 2026. gada 6. decembra",
"2026. gada 6. decembrī", "2026. gada 6. decembris"); the numeric form reads right in every
position, so pages, e-mails and exports say a date one way. Everything not set here (decimal
separator, input formats …) is Django's Latvian.
"""

DATE_FORMAT = "d.m.Y."
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "d.m.Y. H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
