"""The patron pages of enrollment: the cart and checkout (``checkout``), "My registrations"
(``manage``), and the signed links traded for a session grant (``links``); their forms and urls."""
