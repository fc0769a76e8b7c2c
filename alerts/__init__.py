"""Alerts: which items each subscriber gets, how the email looks, and its delivery."""
