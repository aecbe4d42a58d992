"""The staff back office for the program: one module per model family, each registering its admins.

- ``places``: semesters, categories, venues;
- ``instructors``: the people who teach;
- ``courses``: courses with their meetings and budget; ``changes``: telling registrants about a change;
- ``forms``: the admin's forms (input shape only).
"""

from . import courses, instructors, places  # noqa: F401  (each registers its models' admins)
