"""Accounts: sign-up, login, sessions, passwords."""
