"""Payments and providers, refunds, the Pass the Buck fund, pricing and reports."""
