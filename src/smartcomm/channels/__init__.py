"""Channel providers: one package per channel behind the one sender interface of `base.py`."""
