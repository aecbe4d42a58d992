"""Orders, registrations, holds, the waitlist, cancellations, the week-out run."""
