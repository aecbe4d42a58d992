"""The forms of enrollment's back-office pages, one module per page family. They shape input only:
no services, no finance (limits and payment methods come from the views)."""
