"""The Spark engine (``pip install 'retail-datagen[spark]'``): the local engine's units on a
SparkSession — yours in a notebook (:func:`generate`), or ``local[N]`` from the CLI.

Importing this package does not import pyspark; only a run needs it.
"""

from retail_datagen.spark.generate import generate, local_session

__all__ = ["generate", "local_session"]
