"""What every public page's header needs from enrollment: the cart's link and count.

The count is read from the session's list of course ids (``enrollment.cart.Cart.ids``), never
from the database: a visitor without a session costs nothing (the session is not even loaded),
and a cart of any size costs no query beyond the session itself.
"""

from .cart import Cart


def cart(request):
    session = getattr(request, "session", None)
    if session is None:
        return {"cart_count": 0, "cart_ids": frozenset()}
    if not session.session_key and not session.modified:  # no session yet: nothing in a cart
        return {"cart_count": 0, "cart_ids": frozenset()}
    ids = Cart(session).ids
    return {"cart_count": len(ids), "cart_ids": frozenset(ids)}
