"""Request throttles kept in Django's cache, which settings point at a database table: every
web worker (gunicorn process) counts in the same place, and a restart forgets nothing.

Sliding windows: a key's value is the times of its accepted attempts within the window.
Two workers counting the same key at the same instant may both let one more through; a
throttle against mail floods can afford that, and needs no lock.
"""

from __future__ import annotations

import datetime
import hashlib
import time

from django.conf import settings
from django.core.cache import cache

HOUR = datetime.timedelta(hours=1)


def attempt_allowed(*, key: str, limit: int, window: datetime.timedelta = HOUR) -> bool:
    """Count an attempt for `key` and say whether it is within `limit` per `window`.

    A refused attempt is not counted: whoever keeps trying is let through again once the
    earlier attempts leave the window.
    """
    now = time.time()
    seconds = window.total_seconds()
    recent = [moment for moment in cache.get(key, []) if moment > now - seconds]
    if len(recent) >= limit:
        return False
    cache.set(key, [*recent, now], timeout=int(seconds) + 1)
    return True


def password_reset_allowed(*, email: str, client_ip: str) -> bool:
    """At most `PASSWORD_RESET_PER_IP` reset mails an hour asked from one client address, and
    `PASSWORD_RESET_PER_ADDRESS` to one e-mail address (whether it has an account or not, so
    the throttle tells nothing either). The address is hashed: no e-mail addresses in the cache.
    """
    if not attempt_allowed(key=f"password-reset:ip:{client_ip}", limit=settings.PASSWORD_RESET_PER_IP):
        return False
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return attempt_allowed(key=f"password-reset:email:{address}", limit=settings.PASSWORD_RESET_PER_ADDRESS)
