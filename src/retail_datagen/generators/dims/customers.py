"""dim_customers: synthetic people living near their home store (SPEC §5).

Everything is column-at-a-time (no per-customer Python), so hundreds of thousands of customers
take well under a second:
- home store drawn in proportion to store TrafficMultiplier (busy stores have more customers);
- home at a uniform bearing and an exponential distance from the store, scaled so that
  ``HOME_WITHIN_SHARE`` of customers live within ``HOME_WITHIN_MILES``; GeographyID is the home
  store's place;
- names are random first x last combinations from the dictionaries (never a real record);
- LoyaltyCard, BLEId, AdId are a keyed permutation of their code spaces applied to the customer
  id: unique by construction and independent of how many customers there are;
- Phone is fictitious ``(AAA) 555-01XX``: a permutation of the PHONE_SPACE numbers, unique for
  up to that many customers and wrapping beyond;
- Segment shares are exact (largest remainder), assigned in random order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retail_datagen import ids, rng, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.allocation import largest_remainder
from retail_datagen.generators.dims.addresses import street_addresses
from retail_datagen.generators.dims.identifiers import keyed_permutation
from retail_datagen.generators.dims.profiles import CUSTOMER_SEGMENTS
from retail_datagen.geo import offset_points
from retail_datagen.schema.tables import DIM_CUSTOMERS

__all__ = [
    "HOME_MAX_MILES",
    "HOME_WITHIN_MILES",
    "HOME_WITHIN_SHARE",
    "PHONE_AREA_CODES",
    "PHONE_SPACE",
    "generate_customers",
]

HOME_WITHIN_MILES = 10.0
HOME_WITHIN_SHARE = 0.85
HOME_MAX_MILES = 40.0  # nobody's home store is further away than this
_HOME_SCALE_MILES = HOME_WITHIN_MILES / -np.log(1.0 - HOME_WITHIN_SHARE)  # exponential mean

# Fictitious numbers: NANP reserves 555-0100..555-0199 for fiction; area codes 200-999.
PHONE_AREA_CODES = (200, 999)  # inclusive
PHONE_LINES = 100  # 555-0100 .. 555-0199
PHONE_SPACE = (PHONE_AREA_CODES[1] - PHONE_AREA_CODES[0] + 1) * PHONE_LINES  # 80,000
_PHONE_RADICES = (250, 320)

# (column, prefix, digits, radices): random-looking unique codes per customer id.
_CODES: tuple[tuple[str, str, int, tuple[int, int]], ...] = (
    ("LoyaltyCard", "LC", 10, (10**5, 10**5)),
    ("BLEId", "BLE", 10, (10**5, 10**5)),
    ("AdId", "AD", 12, (10**6, 10**6)),
)


def generate_customers(
    config: RetailConfig, stores: pa.Table, first_names: pa.Table, last_names: pa.Table
) -> pa.Table:
    """``volume.total_customers`` customers, each with a home store nearby."""
    n = config.volume.total_customers
    seed = config.seed
    customer_index = np.arange(n, dtype=np.int64)  # ID - 1

    traffic = stores.column("TrafficMultiplier").to_numpy()
    home_row = rng.stream(seed, "dim_customers.home_store").choice(
        traffic.size, size=n, p=traffic / traffic.sum()
    )
    home = rng.stream(seed, "dim_customers.home")
    distance = np.minimum(home.exponential(_HOME_SCALE_MILES, size=n), HOME_MAX_MILES)
    bearing = home.uniform(0.0, 2 * np.pi, size=n)
    lat, lon = offset_points(
        stores.column("Latitude").to_numpy()[home_row],
        stores.column("Longitude").to_numpy()[home_row],
        distance,
        bearing,
    )

    names = rng.stream(seed, "dim_customers.name")
    first = first_names.column("FirstName").take(
        pa.array(names.integers(0, first_names.num_rows, size=n))
    )
    last = last_names.column("LastName").take(
        pa.array(names.integers(0, last_names.num_rows, size=n))
    )

    segment_names = pa.array([name for name, _ in CUSTOMER_SEGMENTS])
    counts = largest_remainder([share for _, share in CUSTOMER_SEGMENTS], n)
    segment = rng.stream(seed, "dim_customers.segment").permutation(
        np.repeat(np.arange(len(CUSTOMER_SEGMENTS)), counts)
    )

    home_rows = pa.array(home_row)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "ID": pa.array(customer_index + 1, pa.int32()),
        "FirstName": first,
        "LastName": last,
        "Address": street_addresses(rng.stream(seed, "dim_customers.address"), n),
        "GeographyID": stores.column("GeographyID").take(home_rows),
        "Latitude": pa.array(lat),
        "Longitude": pa.array(lon),
        "Phone": _phones(seed, customer_index),
        "Segment": segment_names.take(pa.array(segment)),
        "HomeStoreID": stores.column("ID").take(home_rows),
    }
    for column, prefix, width, radices in _CODES:
        code = keyed_permutation(seed, f"dim_customers.{column}", customer_index, radices)
        columns[column] = ids.compose(n, [prefix, (code, width)])
    return schema.normalise(DIM_CUSTOMERS, pa.table(columns))


def _phones(seed: int, customer_index: np.ndarray) -> pa.Array:
    """``(AAA) 555-01XX``: customer i gets number permute(i mod PHONE_SPACE)."""
    code = keyed_permutation(
        seed, "dim_customers.Phone", customer_index % PHONE_SPACE, _PHONE_RADICES
    )
    area, line = np.divmod(code, PHONE_LINES)
    n = customer_index.size
    return ids.compose(n, ["(", (area + PHONE_AREA_CODES[0], 3), ") 555-01", (line, 2)])
