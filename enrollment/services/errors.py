"""Domain errors of enrollment. Views turn them into messages; ``field`` and ``index`` say which
input (which attendee) the message belongs to."""


class EnrollmentError(Exception):
    field: str | None = None

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.index = index
        if field:
            self.field = field


class CourseFull(EnrollmentError):
    pass


class CourseNotOpen(EnrollmentError):
    pass


class RegistrationClosed(EnrollmentError):
    pass


class AlreadyRegistered(EnrollmentError):
    field = "first_name"


class AgeOutOfRange(EnrollmentError):
    field = "age"


class HoldExpired(EnrollmentError):
    pass


class InvalidTransition(EnrollmentError):
    pass
