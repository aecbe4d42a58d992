"""Instructors: the instructor's side of the program — proposals and their review, the instructor
portal, pay statements, feedback forms and evaluations (built by later issues). No models yet: the
instructor (the person) is ``classes.models.Instructor``; this app's migrations are kept as history."""
