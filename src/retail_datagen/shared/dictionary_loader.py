"""Compatibility import path for the dictionary loader (``retail_datagen.dictionaries.loader``)."""

from retail_datagen.dictionaries.loader import DictionaryLoader

__all__ = ["DictionaryLoader"]
