"""Event destinations behind one small interface (``base.Sink``)."""
