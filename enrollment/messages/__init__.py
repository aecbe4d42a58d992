"""The messages enrollment sends, queued through the outbox in the caller's transaction, one module
per family: ``patron`` (confirmation, waitlist, scholarship waitlist, cancellation, the link),
``weekout`` (class cancelled, reminder, nudge), ``instructor``, ``call_scripts`` (the staff call
list), ``course_changes`` ("your class changed", its call script and the instructor's note), on
``common`` (the shared context). Callers import from here.

Templates: ``templates/emails/<name>.{subject.txt,txt,html}``. Every context carries ``site``
(the library's options) and ``manage_url`` (the patron's signed "My registrations" link).
Dedupe keys make each message at most once per cause.
"""

from ..links import absolute  # noqa: F401
from .call_scripts import call_script  # noqa: F401
from .common import cancellation_cause  # noqa: F401
from .instructor import (  # noqa: F401
    instructor_roster_names,
    queue_instructor_cancelled,
    queue_instructor_nudge,
    queue_instructor_roster,
)
from .patron import (  # noqa: F401
    queue_cancelled,
    queue_confirmation,
    queue_manage_link,
    queue_offer_expired,
    queue_scholarship_offer,
    queue_scholarship_wait_closed,
    queue_scholarship_wait_joined,
    queue_waitlist_joined,
    queue_waitlist_offer,
)
from .weekout import (  # noqa: F401
    MAP_CID,
    MAP_DISPLAY_WIDTH,
    MAP_MAX_BYTES,
    MAP_MAX_SIDE,
    queue_course_cancelled,
    queue_nudge,
    queue_reminder,
    queue_reminders,
    venue_map_attachment,
)
