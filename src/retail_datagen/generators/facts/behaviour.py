"""How shoppers, sensors, tenders and campaigns behave: the fact model's distributions as data.

Everything tunable about the facts lives here, next to each other, with the SPEC §11 reference
numbers; the generator modules only read these names. What differs by store format (trip mix,
basket size, price sensitivity, spend by department, zones) is in generators/store_formats.py.
"""

from __future__ import annotations

import numpy as np

from retail_datagen.rng import substream_seeds, uniform_from_seeds

# ---------------------------------------------------------------- vocabularies
SEGMENTS = ("BUDGET_CONSCIOUS", "CONVENIENCE_FOCUSED", "QUALITY_SEEKER", "BRAND_LOYAL")

# ---------------------------------------------------------------- visits and conversion
BASE_CONVERSION = 0.20  # receipts / visitors (SPEC §11)
CONVERSION_PEAK_BONUS = 0.04  # busier hours convert a little better
CONVERSION_WEEKEND_FACTOR = 0.93
CONVERSION_BOUNDS = (0.12, 0.28)
MARKETING_BUY_PROBABILITY = 0.80  # marketing-driven visitors (vs the 40 % intent baseline)
MARKETING_BASKET_LIFT = 1.25  # 25 % larger baskets
MARKETING_PRICE_TILT = -0.10  # with the larger basket, ~30 % more spend: pricier products
MARKETING_ARRIVAL_SPREAD_S = 1_200  # ad-driven visitors arrive within 20 min of the slot

# ---------------------------------------------------------------- shoppers (SPEC §6.1)
# Known (loyalty) customers make trips of their own; every other buyer is anonymous. A customer
# shops at their home store, sometimes at their second store when it is near (≥ 70 % of visits
# at the top-2 stores, ≥ 80 % of trips under 10 miles, SPEC §9); a second store further away
# (up to SECOND_STORE_MAX_MILES) is an occasional trip. Two stores at most, both close to home,
# so the time between two trips is always enough to drive (validate: 70 mph).
NEAR_STORE_MILES = 10.0
SECOND_STORE_MAX_MILES = 20.0
SECOND_STORE_SHARE = 0.18  # of a customer's trips, when the second store is near
FAR_SECOND_STORE_SHARE = 0.04  # … when it is 10-20 miles away
# Trips a week by segment (rows follow SEGMENTS; weighted mean ≈ 1.6, SPEC §6.1); each customer
# gets a keyed multiplier in TRIP_FREQUENCY_SPREAD, clipped to TRIP_FREQUENCY_BOUNDS.
SEGMENT_TRIPS_PER_WEEK = np.array([1.5, 2.2, 1.2, 1.6])
TRIP_FREQUENCY_SPREAD = (0.45, 1.55)
TRIP_FREQUENCY_BOUNDS = (0.5, 3.0)
MAX_TRIPS_PER_DAY = 2
# Busy days bring known customers back more often, but less than the day's traffic rises:
# trip rate × day multiplier ** TRIP_DAY_ELASTICITY; anonymous shoppers fill the rest.
TRIP_DAY_ELASTICITY = 0.75
# Known trips never exceed this share of a store-day's expected receipts: a huge customer base
# shops less often each, a small one leaves more receipts anonymous (never more trips).
KNOWN_RECEIPTS_CAP = 0.75
# When planned trips arrive (seconds after midnight): one morning and one afternoon slot, every
# store is open then (≥ 08-22). A known customer's returns come in the day's early or late slot
# (home and second store swap slots day by day), inside RETURN_DAY_S, at least
# RETURN_CLEARANCE_S away from the customer's visits at other stores (20 miles at 70 mph take
# 17 minutes); ad-driven visits at any hour of a 24-hour store stay hours away from them.
TRIP_SLOTS = ((8 * 3600, 12 * 3600), (14 * 3600 + 1800, 21 * 3600))
RETURN_DAY_S = (7 * 3600, 22 * 3600)
RETURN_EARLY_BEFORE_S = 13 * 3600 + 1800
RETURN_LATE_AFTER_S = 14 * 3600 + 600
RETURN_CLEARANCE_S = 1_800
RETURN_SLOT_STEP_S = 300
VISIT_MAX_S = 3_600  # longest visit incl. an ad-driven arrival spread (≤ 20 + 27 minutes)
# Anonymous buyers get a segment drawn from the customer shares (dims CUSTOMER_SEGMENTS order).
ANONYMOUS_SEGMENT_P = np.array([0.35, 0.25, 0.20, 0.20])

# ---------------------------------------------------------------- in-store sensors
ZONES = (
    "ENTRANCE",
    "PRODUCE",
    "GROCERY",
    "HOUSEHOLD",
    "APPAREL",
    "ELECTRONICS",
    "PHARMACY",
    "CHECKOUT",
)
ENTRANCE, CHECKOUT = 0, len(ZONES) - 1
# dwell seconds per zone stay (SPEC §11)
DWELL_ENTRANCE = (30, 90)
DWELL_INTERIOR = (120, 420)
DWELL_CHECKOUT = (90, 240)
INTERIOR_ZONES_PER_VISIT = (0, 3)  # buyers: entrance + 0-3 interior + checkout = 2-5 zones
FOOT_TRAFFIC_INTERVAL_S = 900  # sensors report every 15 minutes
# Every buyer's phone is seen at checkout. A known customer's phone resolves (their first visit
# of a store-day) with BLE_KNOWN_RESOLVE; browsers are anonymous and seen with a per-store-day
# probability (BLE_DETECT_NON_BUYER bounds) that keeps resolved devices near
# BLE_RESOLVED_SHARE of all devices (SPEC §6.1: ≈ 30 %); a chain with few known customers
# still sees its browsers at the lower bound (and resolves fewer than 30 %).
BLE_DETECT_NON_BUYER = (0.15, 0.5)
BLE_RESOLVED_SHARE = 0.30
BLE_KNOWN_RESOLVE = 0.90
BLE_PINGS_PER_ZONE = (1, 3)
RSSI_RANGE = (-80, -30)

# ---------------------------------------------------------------- baskets
TRIP_TYPES = ("QUICK_TRIP", "GROCERY_RUN", "FAMILY", "BULK")
TRIP_ITEMS = ((1, 3), (5, 15), (10, 30), (20, 50))
REFERENCE_ITEMS_PER_TICKET = 8.2
SEGMENT_BASKET_FACTOR = np.array([0.95, 0.80, 1.10, 1.05])
# quantity per line: 1, 2, 3, 4 units
LINE_QTY_P = np.array([0.78, 0.16, 0.04, 0.02])
LINE_QTY_MEAN = float((LINE_QTY_P * np.arange(1, 5)).sum())
# Line choice weighs price: weight ∝ popularity ** exponent × price ** -beta, beta = the
# department's + the segment's + the format's, so cheap everyday goods fill baskets and a
# $1,000 sofa set stays a rare line. Price matters less for food than for durables; budget
# shoppers lean cheap, quality seekers dear.
DEPARTMENT_PRICE_BETA: dict[str, float] = {
    "Grocery": 0.3,
    "Health & Beauty": 0.6,
    "Pet Supplies": 0.6,
}
PRICE_BETA = 1.1  # every other department
SEGMENT_PRICE_BETA = np.array([0.15, 0.0, -0.15, -0.05])
SEGMENT_POPULARITY_EXPONENT = np.array([1.0, 1.2, 0.9, 1.5])
# "Grocery-type" departments: food and consumables, as large US chains report grocery sales
# (health and beauty aids and pet supplies included). Used by tuning and by validation.
GROCERY_DEPARTMENTS: tuple[str, ...] = ("Grocery", "Health & Beauty", "Pet Supplies")

# ---------------------------------------------------------------- tenders and payments
STORE_TENDERS = ("CREDIT_CARD", "DEBIT_CARD", "CASH", "MOBILE_PAY")
STORE_TENDER_P = np.array([0.40, 0.30, 0.20, 0.10])
ONLINE_TENDERS = ("CREDIT_CARD", "DEBIT_CARD", "PAYPAL", "OTHER")
ONLINE_TENDER_P = np.array([0.50, 0.25, 0.20, 0.05])
TENDERS = ("CREDIT_CARD", "DEBIT_CARD", "CASH", "MOBILE_PAY", "PAYPAL", "OTHER")
DECLINE_RATE = 0.025  # of card attempts (SPEC §11)
DECLINE_FACTOR = {
    "CREDIT_CARD": 1.0,
    "DEBIT_CARD": 0.8,
    "CASH": 0.0,
    "MOBILE_PAY": 1.2,
    "PAYPAL": 0.6,
    "OTHER": 1.0,
}
DECLINE_REASONS = (
    "INSUFFICIENT_FUNDS",
    "CARD_EXPIRED",
    "DO_NOT_HONOR",
    "INCORRECT_PIN",
    "NETWORK_TIMEOUT",
)
PROCESSING_MS = {
    "CREDIT_CARD": (1_000, 4_000),
    "DEBIT_CARD": (1_500, 5_000),
    "CASH": (2_000, 8_000),
    "MOBILE_PAY": (500, 2_000),
    "PAYPAL": (800, 3_000),
    "OTHER": (1_000, 5_000),
}

# ---------------------------------------------------------------- returns
RETURN_RATE = 0.0095  # of sales, returned 1-14 days later at the same store
RETURN_DELAY_DAYS = (1, 14)
GIFT_RETURN_RATE = 0.010  # extra for December gift purchases: Dec 26 ≈ 6× a normal December day
GIFT_SEASON = ((12, 12), (12, 24))  # gifts bought here come back after Christmas
RETURN_ALL_LINES_P = 0.6

# ---------------------------------------------------------------- online orders (SPEC §6.4)
FULFILLMENT_MODES = ("SHIP_FROM_DC", "SHIP_FROM_STORE", "BOPIS")
FULFILLMENT_P = np.array([0.60, 0.30, 0.10])
ONLINE_CANCEL_RATE = 0.02
ONLINE_LINES = (1, 5)

# ---------------------------------------------------------------- marketing (SPEC §6.7)
CHANNELS = (
    "FACEBOOK",
    "GOOGLE",
    "INSTAGRAM",
    "YOUTUBE",
    "EMAIL",
    "DISPLAY",
    "SEARCH",
    "SOCIAL",
    "VIDEO",
)
CHANNEL_P = np.array([0.14, 0.14, 0.12, 0.08, 0.12, 0.14, 0.12, 0.08, 0.06])
CHANNEL_CONVERSION = np.array([0.012, 0.035, 0.012, 0.010, 0.025, 0.008, 0.035, 0.012, 0.010])
DEVICES = ("MOBILE", "DESKTOP", "TABLET")
DEVICE_P = np.array([0.60, 0.30, 0.10])
KNOWN_AD_CUSTOMER_SHARE = 0.05
CONVERSION_DELAY_HOURS = (1, 48)
CAMPAIGN_KINDS = ("SEASONAL_SALE", "PRODUCT_LAUNCH", "LOYALTY", "FLASH_SALE")


# the best-seller is at most ~40× an average product (one SKU never carries several % of sales)
POPULARITY_FLOOR = 0.002


def product_popularity(seed: int, product_id: np.ndarray) -> np.ndarray:
    """A stable, skewed popularity per product (a few best-sellers, a long tail).

    Keyed by product id, so adding products never changes the others' popularity.
    """
    u = uniform_from_seeds(substream_seeds(seed, "product_popularity", product_id))
    popularity: np.ndarray = np.power(np.clip(u, POPULARITY_FLOOR, 1.0), -0.6)  # Pareto-like
    return popularity


# ---------------------------------------------------------------- digital demand (online, ads)
# Relative activity by hour (0..23) of online orders and ad impressions: quiet nights, a lunch
# bump and an evening peak around 19-22 h when people shop and scroll from home.
DIGITAL_HOUR_WEIGHTS = np.array(
    [0.25, 0.15, 0.10, 0.08, 0.08, 0.12, 0.25, 0.45, 0.65, 0.80, 0.90, 1.00,
     1.10, 1.05, 0.95, 0.90, 0.95, 1.05, 1.25, 1.45, 1.55, 1.45, 1.10, 0.60]
)  # fmt: skip
# How far network-wide digital volume follows the store-traffic day curve
# (calendar.day_multipliers): 0 = flat all year, 1 = as seasonal as the stores. Ads run on
# closed days too, so the curve is blended with 1 rather than raised to a power.
MARKETING_SEASONALITY = 0.5
ONLINE_SEASONALITY = 0.8
# Extra online demand on named holidays, on top of the store curve (stores have no Cyber Monday).
ONLINE_HOLIDAY_LIFTS: tuple[tuple[str, float], ...] = (("Cyber Monday", 3.0),)

# ---------------------------------------------------------------- payments (appended)
# Why an attempt is declined (rows follow DECLINE_REASONS): mostly funds and issuer refusals.
DECLINE_REASON_P = np.array([0.40, 0.15, 0.30, 0.05, 0.10])
DECLINE_RETRY_GAP_S = (5.0, 30.0)  # seconds between a decline and the start of the retry
ONLINE_PAYMENT_DELAY_S = (2.0, 10.0)  # checkout: order placed → payment approved

# ---------------------------------------------------------------- online orders (appended)
ONLINE_LINE_COUNT_P = np.array([0.35, 0.25, 0.18, 0.12, 0.10])  # 1..5 lines (ONLINE_LINES)
ONLINE_BASKET_FORMAT = "STANDARD"  # the assortment online baskets are drawn from
ONLINE_PICK_HOURS = (0.5, 4.0)  # shipping orders: order → picked (SPEC §11)
ONLINE_SHIP_AFTER_PICK_HOURS = (2.0, 4.0)  # picked → handed to the carrier
ONLINE_DC_DELIVERY_HOURS = (24.0, 72.0)  # shipped from a DC → delivered (1-3 days)
ONLINE_STORE_DELIVERY_HOURS = (12.0, 36.0)  # shipped from a store → delivered (about a day)
BOPIS_READY_HOURS = (4.0, 24.0)  # order → ready for pickup (PickedTS), in store hours
BOPIS_COLLECT_HOURS = (1.0, 48.0)  # ready → collected (DeliveredTS), in store hours
STORE_LAST_TAKE_S = 30 * 60.0  # a store takes online orders until 30 min before closing

# ---------------------------------------------------------------- campaigns (appended)
# Share of a day's impressions by campaign kind (rows follow CAMPAIGN_KINDS), among the kinds
# running that day (a flash sale runs only on its days).
CAMPAIGN_KIND_WEIGHT = np.array([0.40, 0.25, 0.15, 0.20])
CREATIVES_PER_CAMPAIGN = 4
PRODUCT_LAUNCH_CADENCE_DAYS = 14  # a new product-launch campaign every other Monday
FLASH_SALE_DAYS_PER_MONTH = 3  # keyed days of each month, plus the holidays below
FLASH_SALE_HOLIDAYS = ("Black Friday", "Cyber Monday")
ANON_AD_DEVICES = 5_000_000  # pool of anonymous ad ids, so one unknown device recurs across days
