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


class DuplicateCheckout(EnrollmentError):
    """The same checkout form was submitted again; ``order_token`` is the order it placed."""

    def __init__(self, message: str, *, order_token):
        super().__init__(message)
        self.order_token = order_token
