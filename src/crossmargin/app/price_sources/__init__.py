"""Price sources: the adapters behind the `PriceSource` port (`app/ports.py`)."""
