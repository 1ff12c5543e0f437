"""SMS: SMPP 3.4 (`smpp.py`) and a generic HTTP-JSON provider (`http.py`)."""
