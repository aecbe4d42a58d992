"""Instructors: the people who teach, how they are paid, (later) their applications and feedback."""
