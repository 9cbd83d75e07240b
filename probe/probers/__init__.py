"""Probers: turn endpoints into ProbeResults. connect.py (asyncio connect()) and
raw.py (raw SYN), both behind the one-method `Prober` protocol in base.py."""
