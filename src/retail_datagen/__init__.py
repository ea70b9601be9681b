"""retail-datagen: coherent synthetic retail data, in bulk and as a live event stream."""

__version__ = "0.1.0"
__all__ = ["__version__"]
