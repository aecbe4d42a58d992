"""Finance's public pages, one module per flow: paying an order (``payments``), Stripe's webhook
(``webhook``) and a gift to Pass the Buck (``donations``), with their ``forms`` and ``urls``."""
