"""Seeded sample data: realistic order life-cycles, returns, articles, stores and contacts.

One generator serves two users:

- the demo (`engage-orders demo`, pipelines/demo/) posts `SampleWorld.lifecycles(...)` over
  HTTP: every `SampleChange` is an Orders v3 request body (a dict) with the method and path to
  send it to, plus the article and store register entries and the contacts the orders refer to;
- the benchmarks need the same kind of data in bulk (up to 1M changes, 5M current orders) in
  seconds, so `SampleWorld.order_frames`, `final_state_spec` and `change_rows` build the very same
  bodies column-wise with polars, as bronze `order_changes` rows or as finished orders.

Why both paths agree: every random choice is `mix(seed, stream, index)`, a splitmix64 hash of the
seed, a named stream and the order (or line) number, computed with the same integer arithmetic in
Python and in polars (UInt64 arithmetic wraps like the `& MASK64` below). So order 123 of seed 7
has the same lines, contact and store whichever path built it, and the bodies are identical
strings (`create_body_json(i)` equals the polars body of a create of order i). Nothing depends on
`random`, on hash seeds of the interpreter or on polars' own `hash`, which may change between
versions; only the article catalogue uses `random.Random(seed)`, whose sequence Python keeps stable.

Bodies are written in the canonical form the pipeline stores (`order_document`: camelCase, fields
in model order, no nulls, money as the shortest float), so a finished order's document here is
byte-for-byte what processing its changes would store.

No Dagster, FastAPI or storage imports: this module only knows the request shapes.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import polars as pl

DEFAULT_SEED = 20261127
MASK64 = (1 << 64) - 1
LINE_SLOTS = 16
"""Line-level randomness is keyed by `order_index * LINE_SLOTS + line_number` (≤ 10 purchase lines
plus ≤ 2 return lines per order)."""

_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_SEED_MUL = 0xD1B54A32D192ED03
_STREAM_MUL = 0x8CB92BA72F3D8DD7

# Streams: one per independent choice, so adding a choice never shifts the others.
S_CONTACT, S_GUEST, S_STORE, S_LINES, S_CREATED, S_CARRIER = 1, 2, 3, 4, 5, 6
S_ARTICLE, S_QUANTITY, S_DISCOUNT, S_UNREGISTERED, S_RETURN_TYPE, S_RETURN_REASON = (
    10,
    11,
    12,
    13,
    14,
    15,
)
S_OUTCOME, S_TRACKING, S_RETURNS, S_RETURN_LINES = 20, 21, 22, 23
S_ACTION_CREATE, S_ACTION_SHIP, S_ACTION_RETURN = 25, 26, 27
S_T_DELIVERY, S_T_STATUS, S_T_RETURN = 30, 31, 32
S_KIND, S_TARGET, S_NEW_STATUS, S_ACTION_CHANGE = 40, 41, 42, 43

ChangeType = Literal["create", "replace", "change_status", "change_delivery"]

HOUR = 3600
DAY = 24 * HOUR


# --------------------------------------------------------------------------- randomness


def _offset(seed: int, stream: int) -> int:
    return (seed * _SEED_MUL + stream * _STREAM_MUL) & MASK64


def mix(seed: int, stream: int, index: int) -> int:
    """A pseudo-random 64-bit number for (seed, stream, index): splitmix64's finaliser."""
    z = (index * _GOLDEN + _offset(seed, stream)) & MASK64
    z = ((z ^ (z >> 30)) * _M1) & MASK64
    z = ((z ^ (z >> 27)) * _M2) & MASK64
    return z ^ (z >> 31)


def _u64(value: int) -> pl.Expr:
    return pl.lit(value, pl.UInt64)


def mix_expr(seed: int, stream: int, index: pl.Expr) -> pl.Expr:
    """`mix` for a column of indices (UInt64 arithmetic wraps modulo 2**64 in polars)."""
    z = index.cast(pl.UInt64) * _u64(_GOLDEN) + _u64(_offset(seed, stream))
    z = z.xor(z // _u64(1 << 30)) * _u64(_M1)
    z = z.xor(z // _u64(1 << 27)) * _u64(_M2)
    return z.xor(z // _u64(1 << 31))


def pick(seed: int, stream: int, index: int, modulo: int) -> int:
    """A pseudo-random integer in [0, modulo)."""
    return mix(seed, stream, index) % modulo


def pick_expr(seed: int, stream: int, index: pl.Expr, modulo: int) -> pl.Expr:
    return (mix_expr(seed, stream, index) % _u64(modulo)).cast(pl.Int64)


def _slots(weighted: Sequence[tuple[Any, int]]) -> tuple[Any, ...]:
    """Values repeated by weight: a uniform pick among the slots is a weighted choice."""
    return tuple(value for value, weight in weighted for _ in range(weight))


def _gather(values: Sequence[Any], index: pl.Expr, dtype: pl.DataType | None = None) -> pl.Expr:
    return pl.lit(pl.Series(values, dtype=dtype)).gather(index)


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class ProductType:
    code: str
    name: str
    main_category: str
    product_category: str
    sizes: tuple[str, ...]
    prices: tuple[int, int]
    """Whole units of currency, lowest and highest list price."""


CLOTHING = ("XS", "S", "M", "L", "XL")
SHOES = ("38", "39", "40", "41", "42", "43", "44", "45")
ONE_SIZE = ("One size",)

PRODUCT_TYPES: tuple[ProductType, ...] = (
    ProductType("RAIN", "Rain jacket", "Jackets", "Outerwear", CLOTHING, (799, 1999)),
    ProductType("DOWN", "Down jacket", "Jackets", "Outerwear", CLOTHING, (1499, 3999)),
    ProductType("SOFT", "Softshell jacket", "Jackets", "Outerwear", CLOTHING, (999, 2499)),
    ProductType("OXFD", "Oxford shirt", "Shirts", "Tops", CLOTHING, (399, 899)),
    ProductType("FLAN", "Flannel shirt", "Shirts", "Tops", CLOTHING, (399, 799)),
    ProductType("TEE", "T-shirt", "Shirts", "Tops", CLOTHING, (149, 349)),
    ProductType("CHIN", "Chinos", "Trousers", "Bottoms", CLOTHING, (499, 999)),
    ProductType("JEAN", "Jeans", "Trousers", "Bottoms", CLOTHING, (599, 1299)),
    ProductType("SNKR", "Sneakers", "Shoes", "Footwear", SHOES, (699, 1799)),
    ProductType("BOOT", "Boots", "Shoes", "Footwear", SHOES, (1199, 2499)),
    ProductType("KNIT", "Wool sweater", "Knitwear", "Tops", CLOTHING, (599, 1499)),
    ProductType("CARD", "Cardigan", "Knitwear", "Tops", CLOTHING, (699, 1299)),
    ProductType("WRAP", "Wrap dress", "Dresses", "Dresses", CLOTHING, (599, 1499)),
    ProductType("SOCK", "Wool socks", "Accessories", "Accessories", ONE_SIZE, (99, 199)),
    ProductType("BEAN", "Beanie", "Accessories", "Accessories", ONE_SIZE, (149, 349)),
    ProductType("SCRF", "Scarf", "Accessories", "Accessories", ONE_SIZE, (199, 599)),
)
BRANDS = (
    "Nordvik",
    "Fjällro",
    "Havsbris",
    "Granlund",
    "Stig & Sten",
    "Ekholm",
    "Lysa",
    "Morkulla",
    "Tallbo",
    "Vinda",
)
COLORS = (
    ("Black", "BLK"),
    ("Navy", "NAV"),
    ("Blue", "BLU"),
    ("Grey", "GRY"),
    ("Green", "GRN"),
    ("Red", "RED"),
    ("Beige", "BEI"),
    ("White", "WHT"),
)
SEASONS = ("AW24", "SS25", "AW25", "SS26")
GENDERS = ("Women", "Men", "Unisex")


@dataclass(frozen=True)
class CatalogueArticle:
    """One SKU of the seeded catalogue: a product type in one colour and size."""

    sku: str
    number: str
    item_number: str
    name: str
    brand: str
    main_category: str
    product_category: str
    color: str
    size: str
    gender: str
    season: str
    gtin: str
    price_cents: int

    def register_entry(self) -> dict[str, Any]:
        """The article as `POST /articles` takes it (schemas.articles.Article, camelCase)."""
        return {
            "sku": self.sku,
            "number": self.number,
            "name": self.name,
            "mainCategory": self.main_category,
            "itemNumber": self.item_number,
            "awardsBonus": True,
            "brand": self.brand,
            "color": self.color,
            "productCategory": self.product_category,
            "ageGroup": "Adult",
            "season": self.season,
            "size": self.size,
            "gender": self.gender,
            "gtin": self.gtin,
        }


def _ean13(body12: str) -> str:
    """A GTIN-13 with its check digit."""
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def article_catalogue(seed: int = DEFAULT_SEED, count: int = 2000) -> tuple[CatalogueArticle, ...]:
    """`count` SKUs: models of the product types, each in 1-3 colours and all its sizes."""
    rng = random.Random(seed)
    articles: list[CatalogueArticle] = []
    model = 1000
    while len(articles) < count:
        model += rng.randint(1, 9)
        kind = rng.choice(PRODUCT_TYPES)
        brand = rng.choice(BRANDS)
        gender = rng.choice(GENDERS)
        season = rng.choice(SEASONS)
        low, high = kind.prices
        price = rng.randrange(low + 1, high + 2, 50) - 1  # 799, 849, ...: shop prices
        cents = price * 100 + (50 if rng.random() < 0.1 else 0)
        for color, color_code in rng.sample(COLORS, rng.randint(1, 3)):
            for size in kind.sizes:
                if len(articles) == count:
                    break
                size_code = "OS" if size == ONE_SIZE[0] else size
                articles.append(
                    CatalogueArticle(
                        sku=f"{model:04d}-{kind.code}-{color_code}-{size_code}",
                        number=f"{model:04d}",
                        item_number=f"{model:04d}-{color_code}",
                        name=f"{kind.name}, {color.lower()}",
                        brand=brand,
                        main_category=kind.main_category,
                        product_category=kind.product_category,
                        color=color,
                        size=size,
                        gender=gender,
                        season=season,
                        gtin=_ean13(f"735{len(articles):09d}"),
                        price_cents=cents,
                    )
                )
    return tuple(articles)


# --------------------------------------------------------------------------- stores


@dataclass(frozen=True)
class SampleStore:
    external_id: str
    name: str
    type: str
    city: str
    country_code: str
    currency: str
    weight: int
    """Share of orders in percent."""
    registered: bool = True
    """False for a store orders name but the register lacks (a StoreMissing warning)."""

    @property
    def channel(self) -> str:
        return "Ecom" if self.type == "Ecom" else "Store"

    @property
    def language(self) -> str:
        """What the shipped automations have templates for (sv-SE, else the en-GB fallback)."""
        return "sv-SE" if self.country_code == "SE" else "en-GB"

    def register_entry(self) -> dict[str, Any]:
        """The store as `POST /stores` takes it (schemas.stores.Store, camelCase)."""
        return {
            "externalId": self.external_id,
            "name": self.name,
            "type": self.type,
            "city": self.city,
            "countryCode": self.country_code,
            "currency": self.currency,
            "chain": "Nordvik Retail",
        }


_CITIES = (
    ("Stockholm", "SE", "SEK"),
    ("Göteborg", "SE", "SEK"),
    ("Malmö", "SE", "SEK"),
    ("Uppsala", "SE", "SEK"),
    ("Oslo", "NO", "NOK"),
    ("Bergen", "NO", "NOK"),
    ("København", "DK", "DKK"),
    ("Aarhus", "DK", "DKK"),
    ("Helsinki", "FI", "EUR"),
    ("Västerås", "SE", "SEK"),
    ("Örebro", "SE", "SEK"),
    ("Linköping", "SE", "SEK"),
)
STORES: tuple[SampleStore, ...] = (
    SampleStore("Webshop-SE", "Webshop Sweden", "Ecom", "Stockholm", "SE", "SEK", 45),
    SampleStore("Webshop-NO", "Webshop Norway", "Ecom", "Oslo", "NO", "NOK", 10),
    SampleStore("Webshop-DK", "Webshop Denmark", "Ecom", "København", "DK", "DKK", 5),
    *(
        SampleStore(f"STORE-{n:03d}", f"Nordvik {city}", "Store", city, country, currency, 3)
        for n, (city, country, currency) in enumerate(_CITIES, start=1)
    ),
    SampleStore(
        "STORE-900", "Pop-up (unregistered)", "Store", "Stockholm", "SE", "SEK", 1, registered=False
    ),
    SampleStore("STORE-013", "Nordvik Outlet", "Outlet", "Barkarby", "SE", "SEK", 3),
)
_STORE_SLOTS = _slots([(position, store.weight) for position, store in enumerate(STORES)])
CARRIERS = (("Budbee", "BB"), ("PostNord", "PN"), ("DHL", "DH"), ("Instabox", "IB"))


def store_register_entries() -> list[dict[str, Any]]:
    """Every registered store, as the body of one `POST /stores`."""
    return [store.register_entry() for store in STORES if store.registered]


# --------------------------------------------------------------------------- contacts

FIRST_NAMES = (
    "Anna", "Erik", "Lena", "Johan", "Maria", "Karl", "Sara", "Lars", "Emma", "Oskar", "Ida",
    "Nils", "Elin", "Hugo", "Maja", "Axel", "Klara", "Olof", "Frida", "Viktor", "Linnea", "Gustav",
    "Astrid", "Leo", "Ebba", "Arvid", "Signe", "Henrik", "Tove", "Mats",
)  # fmt: skip
LAST_NAMES = (
    "Berg", "Lindqvist", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
    "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Holm", "Ek",
    "Lundgren", "Sandberg", "Forsberg", "Nyberg", "Hansen", "Jensen", "Virtanen", "Dahl",
)  # fmt: skip
_CONTACT_GENDERS = ("Female", "Male", "Female", "Male", "Other")


@dataclass(frozen=True)
class SampleContact:
    index: int
    contact_id: str
    email: str
    first_name: str
    last_name: str
    country_code: str
    gender: str

    def body(self) -> dict[str, Any]:
        """`POST /contacts` body (schemas.contacts.NewContact)."""
        return {
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "countryCode": self.country_code,
            "gender": self.gender,
        }


@dataclass(frozen=True)
class ContactPool:
    """`size` contacts; contact k is a pure function of (seed, k), in Python and in polars.

    Orders name their contact by e-mail (`matchKeyType: Email`); `contact_id(k)` is the id a
    benchmark gives contact k when it writes the contacts table directly.
    """

    seed: int
    size: int
    first_names: tuple[str, ...] = field(init=False)
    last_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        object.__setattr__(self, "first_names", tuple(rng.sample(FIRST_NAMES, len(FIRST_NAMES))))
        object.__setattr__(self, "last_names", tuple(rng.sample(LAST_NAMES, len(LAST_NAMES))))

    def contact(self, k: int) -> SampleContact:
        first = self.first_names[k % len(self.first_names)]
        last = self.last_names[(k // len(self.first_names)) % len(self.last_names)]
        return SampleContact(
            index=k,
            contact_id=self.contact_id(k),
            email=f"{first}.{last}{k}@example.org".lower(),
            first_name=first,
            last_name=last,
            country_code=STORES[_STORE_SLOTS[pick(self.seed, S_STORE, k, 100)]].country_code,
            gender=_CONTACT_GENDERS[k % len(_CONTACT_GENDERS)],
        )

    def __iter__(self) -> Iterator[SampleContact]:
        return (self.contact(k) for k in range(self.size))

    @staticmethod
    def contact_id(k: int) -> str:
        return f"c0000000-0000-4000-8000-{k:012d}"

    def email_expr(self, k: pl.Expr) -> pl.Expr:
        first = _gather([name.lower() for name in self.first_names], k % len(self.first_names))
        last = _gather(
            [name.lower() for name in self.last_names],
            (k // len(self.first_names)) % len(self.last_names),
        )
        return pl.concat_str(first, pl.lit("."), last, k.cast(pl.String), pl.lit("@example.org"))

    def frame(self) -> pl.DataFrame:
        """Every contact column-wise: index, contact_id, email, names, country, gender."""
        k = pl.col("index")
        store = _gather(_STORE_SLOTS, pick_expr(self.seed, S_STORE, k, 100))
        return pl.DataFrame({"index": pl.int_range(self.size, eager=True, dtype=pl.Int64)}).select(
            k,
            (pl.lit("c0000000-0000-4000-8000-") + k.cast(pl.String).str.zfill(12)).alias(
                "contact_id"
            ),
            self.email_expr(k).alias("email"),
            _gather(self.first_names, k % len(self.first_names)).alias("first_name"),
            _gather(self.last_names, (k // len(self.first_names)) % len(self.last_names)).alias(
                "last_name"
            ),
            _gather([store.country_code for store in STORES], store).alias("country_code"),
            _gather(_CONTACT_GENDERS, k % len(_CONTACT_GENDERS)).alias("gender"),
        )


# --------------------------------------------------------------------------- orders

LINE_COUNTS = _slots([(1, 30), (2, 22), (3, 15), (4, 10), (5, 7), (6, 5), (7, 4), (8, 3)])
LINE_COUNTS = LINE_COUNTS + _slots([(9, 2), (10, 2)])
QUANTITIES = _slots([(1, 75), (2, 20), (3, 5)])
RETURN_TYPES = _slots([("Normal", 80), ("Complaint", 15), ("Change", 5)])
RETURN_REASONS = ("Too small", "Too big", "Not as pictured", "Damaged", "Changed my mind")
GUEST_PERCENT = 5
"""Orders whose e-mail matches no contact (a ContactMissing warning)."""
UNREGISTERED_PER_MILLE = 10
"""Lines whose SKU the article register lacks (an ArticleMissing warning)."""
DISCOUNT_PERCENT = 15
COMPLETED_PERCENT, CANCELLED_PERCENT = 85, 10
"""Life-cycle outcomes; the rest stays InProgress."""
TRACKED_PERCENT = 80
RETURNED_PERCENT = 12
"""Completed orders that are replaced later with return lines added."""
ACTION_PERCENT = {"create": 25, "ship": 50, "return": 50}


@dataclass(frozen=True)
class Timeline:
    """Order i is created at `start + i * seconds_per_order` plus a jitter below one step."""

    start: datetime
    seconds_per_order: int = 60

    def created_at(self, index: int, seed: int) -> datetime:
        jitter = pick(seed, S_CREATED, index, self.seconds_per_order)
        return self.start + timedelta(seconds=index * self.seconds_per_order + jitter)

    def created_at_expr(self, index: pl.Expr, seed: int) -> pl.Expr:
        jitter = pick_expr(seed, S_CREATED, index, self.seconds_per_order)
        return pl.lit(self.start, pl.Datetime("us", "UTC")) + pl.duration(
            seconds=index * self.seconds_per_order + jitter
        )


@dataclass(frozen=True)
class ChangeMix:
    """Shares (percent) of the change kinds `change_rows` lands; they must add up to 100."""

    create: int = 40
    change_status: int = 40
    replace: int = 12
    change_delivery: int = 8

    def __post_init__(self) -> None:
        if self.create + self.change_status + self.replace + self.change_delivery != 100:
            raise ValueError("the change mix must add up to 100 percent")


@dataclass(frozen=True)
class SampleChange:
    """One Orders v3 write of a life-cycle: what to send, where, and when it happens."""

    at: datetime
    change_type: ChangeType
    order_id: str
    body: dict[str, Any]

    @property
    def method(self) -> str:
        return "PUT" if self.change_type == "replace" else "POST"

    @property
    def path(self) -> str:
        """Relative to the API root (`/api/v3`)."""
        return {
            "create": "/orders",
            "replace": f"/orders/{self.order_id}",
            "change_status": f"/orders/{self.order_id}/change-status",
            "change_delivery": f"/orders/{self.order_id}/change-delivery",
        }[self.change_type]


@dataclass(frozen=True)
class LifeCycle:
    """The fate of order i, decided up front from its index (same in Python and polars)."""

    outcome: str
    """Completed, Cancelled or InProgress (never finished)."""
    tracked: bool
    returns: int
    delivery_at: int
    status_at: int
    return_at: int
    """Seconds after creation."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_expr(moment: pl.Expr) -> pl.Expr:
    return moment.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(cents: int) -> float:
    return cents / 100


def _money_expr(cents: pl.Expr) -> pl.Expr:
    """Cents as the shortest float text, as json.dumps writes `cents / 100` (799.0, 849.5)."""
    units = (cents // 100).cast(pl.String)
    fraction = cents % 100
    return (
        pl.when(fraction == 0)
        .then(units + ".0")
        .when(fraction % 10 == 0)
        .then(units + "." + (fraction // 10).cast(pl.String))
        .otherwise(units + "." + fraction.cast(pl.String).str.zfill(2))
    )


def _quoted(value: pl.Expr) -> pl.Expr:
    """A JSON string; the generator's texts hold no quotes, backslashes or control characters."""
    return pl.concat_str(pl.lit('"'), value, pl.lit('"'))


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class SampleWorld:
    """Catalogue, stores, contacts and a timeline, from one seed: everything orders refer to."""

    seed: int = DEFAULT_SEED
    articles: int = 2000
    contacts: int = 1000
    timeline: Timeline = field(
        default_factory=lambda: Timeline(start=datetime(2025, 1, 1, tzinfo=UTC))
    )
    order_prefix: str = "SO"

    def __post_init__(self) -> None:
        if self.articles < 1 or self.contacts < 1:
            raise ValueError("a world needs at least one article and one contact")

    # ----------------------------------------------------------------- shared reference data

    @property
    def catalogue(self) -> tuple[CatalogueArticle, ...]:
        return _catalogue(self.seed, self.articles)

    @property
    def pool(self) -> ContactPool:
        return ContactPool(self.seed, self.contacts)

    def article_register_entries(self, batch: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """The catalogue as `POST /articles` bodies of at most `batch` articles."""
        entries = [article.register_entry() for article in self.catalogue]
        for start in range(0, len(entries), batch):
            yield entries[start : start + batch]

    def store_register_entries(self) -> list[dict[str, Any]]:
        return store_register_entries()

    def contact_bodies(self) -> Iterator[dict[str, Any]]:
        """`POST /contacts` bodies of the whole pool (orders match them by e-mail)."""
        return (contact.body() for contact in self.pool)

    def order_id(self, index: int) -> str:
        return f"{self.order_prefix}-{index:09d}"

    # ----------------------------------------------------------------- one order, in Python

    def lifecycle(self, index: int) -> LifeCycle:
        seed = self.seed
        store = STORES[_STORE_SLOTS[pick(seed, S_STORE, index, 100)]]
        roll = pick(seed, S_OUTCOME, index, 100)
        outcome = (
            "Completed"
            if roll < COMPLETED_PERCENT
            else "Cancelled"
            if roll < COMPLETED_PERCENT + CANCELLED_PERCENT
            else "InProgress"
        )
        tracked = (
            store.channel == "Ecom"
            and outcome != "Cancelled"
            and pick(seed, S_TRACKING, index, 100) < TRACKED_PERCENT
        )
        lines = LINE_COUNTS[pick(seed, S_LINES, index, len(LINE_COUNTS))]
        returns = 0
        if outcome == "Completed" and pick(seed, S_RETURNS, index, 100) < RETURNED_PERCENT:
            returns = min(1 + pick(seed, S_RETURN_LINES, index, 2), lines)
        delivery_at = 6 * HOUR + pick(seed, S_T_DELIVERY, index, 42 * HOUR)
        if outcome == "Cancelled":
            status_at = HOUR + pick(seed, S_T_STATUS, index, 23 * HOUR)
        else:
            status_at = 2 * DAY + pick(seed, S_T_STATUS, index, 4 * DAY)
        return_at = status_at + 3 * DAY + pick(seed, S_T_RETURN, index, 17 * DAY)
        return LifeCycle(outcome, tracked, returns, delivery_at, status_at, return_at)

    def order_body(
        self,
        index: int,
        *,
        status: str = "InProgress",
        external_status: str = "Received",
        last_changed_at: datetime | None = None,
        tracked: bool = False,
        returns: int = 0,
        action: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The whole order `index` (a create or replace body) in canonical form."""
        seed = self.seed
        store = STORES[_STORE_SLOTS[pick(seed, S_STORE, index, 100)]]
        created_at = self.timeline.created_at(index, seed)
        lines = [self._line(index, number) for number in range(self._line_count(index))]
        for number in range(returns):
            lines.append(self._return_line(index, len(lines), number, lines[number]))
        purchases = sum(line["totalPrice"] * 100 for line in lines if line["type"] == "Purchase")
        body: dict[str, Any] = {
            "orderId": self.order_id(index),
            "contact": {"matchKey": self._email(index), "matchKeyType": "Email"},
            "externalStoreId": store.external_id,
            "status": status,
            "externalStatus": external_status,
            "references": [],
            "currencyCode": store.currency,
            "channel": store.channel,
            "createdAt": _iso(created_at),
            "lastChangedAt": _iso(last_changed_at or created_at),
            "lineItems": {
                "items": lines,
                "subTotal": _money(sum(round(line["totalPrice"] * 100) for line in lines)),
            },
            "payments": {"items": [{"type": "Card", "amount": _money(round(purchases))}]},
        }
        if store.channel == "Ecom":
            body["delivery"] = {"method": self._carrier(index)[0]}
            if tracked:
                body["delivery"].update(self._tracking(index))
        if action is not None:
            body["action"] = action
        return body

    def create_body_json(self, index: int) -> str:
        """The create of order `index` as the compact JSON text the bronze fast path lands."""
        return _dumps(self._create_change(index, self.lifecycle(index)).body)

    def _line_count(self, index: int) -> int:
        return LINE_COUNTS[pick(self.seed, S_LINES, index, len(LINE_COUNTS))]

    def _email(self, index: int) -> str:
        if pick(self.seed, S_GUEST, index, 100) < GUEST_PERCENT:
            return f"guest{index}@example.net"
        return self.pool.contact(pick(self.seed, S_CONTACT, index, self.contacts)).email

    def _carrier(self, index: int) -> tuple[str, str]:
        return CARRIERS[pick(self.seed, S_CARRIER, index, len(CARRIERS))]

    def _tracking(self, index: int) -> dict[str, Any]:
        number = f"{self._carrier(index)[1]}{index:010d}SE"
        delivery_date = self.timeline.created_at(index, self.seed) + timedelta(days=3)
        return {
            "trackingNumber": number,
            "trackingUri": f"https://tracking.example.org/{number}",
            "deliveryDate": _iso(delivery_date),
        }

    def _line(self, index: int, number: int) -> dict[str, Any]:
        seed, slot = self.seed, index * LINE_SLOTS + number
        article = self.catalogue[pick(seed, S_ARTICLE, slot, self.articles)]
        quantity = QUANTITIES[pick(seed, S_QUANTITY, slot, len(QUANTITIES))]
        unregistered = pick(seed, S_UNREGISTERED, slot, 1000) < UNREGISTERED_PER_MILLE
        line: dict[str, Any] = {
            "id": str(number + 1),
            "type": "Purchase",
            "quantity": quantity,
            "article": {
                "sku": article.sku + ("-OLD" if unregistered else ""),
                "name": article.name,
            },
        }
        original = article.price_cents
        if pick(seed, S_DISCOUNT, slot, 100) < DISCOUNT_PERCENT:
            price = original * 8 // 10 // 100 * 100
            line["discounts"] = {
                "items": [
                    {
                        "type": "Campaign",
                        "description": "Season sale",
                        "amount": _money((original - price) * quantity),
                    }
                ]
            }
            line["pricePerUnit"] = _money(price)
            line["originalPricePerUnit"] = _money(original)
            line["totalPrice"] = _money(price * quantity)
            line["originalTotalPrice"] = _money(original * quantity)
        else:
            line["pricePerUnit"] = _money(original)
            line["totalPrice"] = _money(original * quantity)
        return line

    def _return_line(
        self,
        index: int,
        position: int,
        number: int,
        purchase: dict[str, Any],
    ) -> dict[str, Any]:
        slot = index * LINE_SLOTS + position
        return {
            "id": f"R{number + 1}",
            "type": "Return",
            "quantity": 1,
            "article": dict(purchase["article"]),
            "returnDetails": {
                "type": RETURN_TYPES[pick(self.seed, S_RETURN_TYPE, slot, len(RETURN_TYPES))],
                "reason": RETURN_REASONS[
                    pick(self.seed, S_RETURN_REASON, slot, len(RETURN_REASONS))
                ],
            },
            "pricePerUnit": purchase["pricePerUnit"],
            "totalPrice": purchase["pricePerUnit"],
        }

    def _store(self, index: int) -> SampleStore:
        return STORES[_STORE_SLOTS[pick(self.seed, S_STORE, index, 100)]]

    def _create_change(self, index: int, life: LifeCycle) -> SampleChange:
        created_at = self.timeline.created_at(index, self.seed)
        action = None
        if pick(self.seed, S_ACTION_CREATE, index, 100) < ACTION_PERCENT["create"]:
            action = {"action": "ConfirmOrder", "language": self._store(index).language}
        body = self.order_body(index, action=action)
        return SampleChange(created_at, "create", self.order_id(index), body)

    def lifecycle_changes(self, index: int) -> list[SampleChange]:
        """Every write of order `index`, in time order: create, then maybe a delivery update,
        a status change (Completed or Cancelled) and a replace that adds return lines."""
        life = self.lifecycle(index)
        created_at = self.timeline.created_at(index, self.seed)
        order_id = self.order_id(index)
        changes = [self._create_change(index, life)]
        if life.tracked:
            body: dict[str, Any] = {"method": self._carrier(index)[0], **self._tracking(index)}
            if pick(self.seed, S_ACTION_SHIP, index, 100) < ACTION_PERCENT["ship"]:
                body["action"] = {
                    "action": "ConfirmShipment",
                    "language": self._store(index).language,
                }
            at = created_at + timedelta(seconds=life.delivery_at)
            changes.append(SampleChange(at, "change_delivery", order_id, body))
        if life.outcome != "InProgress":
            at = created_at + timedelta(seconds=life.status_at)
            external = "Delivered" if life.outcome == "Completed" else "Cancelled"
            body = {"status": life.outcome, "externalStatus": external, "lastChangedAt": _iso(at)}
            changes.append(SampleChange(at, "change_status", order_id, body))
        if life.returns:
            at = created_at + timedelta(seconds=life.return_at)
            action = None
            if pick(self.seed, S_ACTION_RETURN, index, 100) < ACTION_PERCENT["return"]:
                action = {"action": "ConfirmReturn", "language": self._store(index).language}
            body = self.order_body(
                index,
                status="Completed",
                external_status="Returned",
                last_changed_at=at,
                tracked=life.tracked,
                returns=life.returns,
                action=action,
            )
            changes.append(SampleChange(at, "replace", order_id, body))
        return changes

    def final_document(self, index: int) -> dict[str, Any]:
        """Order `index` as it stands after its whole life-cycle (no embedded action)."""
        life = self.lifecycle(index)
        return self.order_body(index, **self._final_arguments(index, life))

    def _final_arguments(self, index: int, life: LifeCycle) -> dict[str, Any]:
        created_at = self.timeline.created_at(index, self.seed)
        if life.returns:
            status, external, last = "Completed", "Returned", life.return_at
        elif life.outcome == "Completed":
            status, external, last = "Completed", "Delivered", life.status_at
        elif life.outcome == "Cancelled":
            status, external, last = "Cancelled", "Cancelled", life.status_at
        else:
            status, external, last = "InProgress", "Received", 0
        return {
            "status": status,
            "external_status": external,
            "last_changed_at": created_at + timedelta(seconds=last),
            "tracked": life.tracked,
            "returns": life.returns,
        }

    def lifecycles(self, orders: int, first_order: int = 0) -> Iterator[SampleChange]:
        """The writes of orders first_order .. first_order+orders-1, interleaved in time order.

        Streams with bounded memory: an order's later writes wait in a heap until the timeline
        passes them (a life-cycle lasts at most ~27 days).
        """
        waiting: list[tuple[datetime, int, int, SampleChange]] = []
        for index in range(first_order, first_order + orders):
            created_at = self.timeline.created_at(index, self.seed)
            while waiting and waiting[0][0] <= created_at:
                yield heapq.heappop(waiting)[3]
            for step, change in enumerate(self.lifecycle_changes(index)):
                heapq.heappush(waiting, (change.at, index, step, change))
        while waiting:
            yield heapq.heappop(waiting)[3]

    # ----------------------------------------------------------------- many orders, in polars

    def lifecycle_frame(self, index: pl.Expr) -> list[pl.Expr]:
        """`lifecycle` as columns: outcome, tracked, returns, delivery_at, status_at, return_at."""
        seed = self.seed
        store = _gather(_STORE_SLOTS, pick_expr(seed, S_STORE, index, 100))
        ecom = _gather([store.channel == "Ecom" for store in STORES], store)
        roll = pick_expr(seed, S_OUTCOME, index, 100)
        outcome = (
            pl.when(roll < COMPLETED_PERCENT)
            .then(pl.lit("Completed"))
            .when(roll < COMPLETED_PERCENT + CANCELLED_PERCENT)
            .then(pl.lit("Cancelled"))
            .otherwise(pl.lit("InProgress"))
        )
        lines = _gather(LINE_COUNTS, pick_expr(seed, S_LINES, index, len(LINE_COUNTS)))
        returned = (outcome == "Completed") & (
            pick_expr(seed, S_RETURNS, index, 100) < RETURNED_PERCENT
        )
        returns = pl.when(returned).then(
            pl.min_horizontal(1 + pick_expr(seed, S_RETURN_LINES, index, 2), lines)
        )
        status_at = (
            pl.when(outcome == "Cancelled")
            .then(HOUR + pick_expr(seed, S_T_STATUS, index, 23 * HOUR))
            .otherwise(2 * DAY + pick_expr(seed, S_T_STATUS, index, 4 * DAY))
        )
        return [
            outcome.alias("outcome"),
            (
                ecom
                & (outcome != "Cancelled")
                & (pick_expr(seed, S_TRACKING, index, 100) < TRACKED_PERCENT)
            ).alias("tracked"),
            returns.fill_null(0).cast(pl.Int64).alias("returns"),
            (6 * HOUR + pick_expr(seed, S_T_DELIVERY, index, 42 * HOUR)).alias("delivery_at"),
            status_at.alias("status_at"),
            (status_at + 3 * DAY + pick_expr(seed, S_T_RETURN, index, 17 * DAY)).alias("return_at"),
        ]

    def final_state_spec(self, first: int, count: int) -> pl.DataFrame:
        """Spec (see `order_frames`) of orders first..first+count-1 after their life-cycles."""
        index = pl.col("order_index")
        created_at = self.timeline.created_at_expr(index, self.seed)
        frame = pl.DataFrame(
            {"order_index": pl.int_range(first, first + count, eager=True, dtype=pl.Int64)}
        ).with_columns(self.lifecycle_frame(index))
        returned = pl.col("returns") > 0
        completed = pl.col("outcome") == "Completed"
        cancelled = pl.col("outcome") == "Cancelled"
        return frame.select(
            "order_index",
            pl.col("outcome").alias("status"),
            pl.when(returned)
            .then(pl.lit("Returned"))
            .when(completed)
            .then(pl.lit("Delivered"))
            .when(cancelled)
            .then(pl.lit("Cancelled"))
            .otherwise(pl.lit("Received"))
            .alias("external_status"),
            (
                created_at
                + pl.duration(
                    seconds=pl.when(returned)
                    .then(pl.col("return_at"))
                    .when(completed | cancelled)
                    .then(pl.col("status_at"))
                    .otherwise(0)
                )
            ).alias("last_changed_at"),
            "tracked",
            "returns",
            pl.lit(None, pl.String).alias("action"),
        )

    def create_spec(self, orders: pl.DataFrame) -> pl.DataFrame:
        """Spec (see `order_frames`) of the creates of `orders` (a frame with `order_index`, whose
        other columns are kept), as their life-cycles send them: InProgress, some with an
        embedded ConfirmOrder."""
        index = pl.col("order_index")
        store = _gather(_STORE_SLOTS, pick_expr(self.seed, S_STORE, index, 100))
        language = _gather([s.language for s in STORES], store)
        return orders.with_columns(
            pl.lit("InProgress").alias("status"),
            pl.lit("Received").alias("external_status"),
            pl.lit(None, pl.Datetime("us", "UTC")).alias("last_changed_at"),
            pl.lit(False).alias("tracked"),
            pl.lit(0, pl.Int64).alias("returns"),
            pl.when(pick_expr(self.seed, S_ACTION_CREATE, index, 100) < ACTION_PERCENT["create"])
            .then(_action_json("ConfirmOrder", language))
            .alias("action"),
        )

    def order_frames(self, spec: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Whole orders column-wise, one per row of `spec` (an order may appear twice).

        `spec` columns: order_index (Int64), status, external_status, last_changed_at (UTC
        Datetime, null: the creation time), tracked (bool), returns (Int64), action (the embedded
        action as JSON text, or null). Returns (orders, lines): orders with the structured
        columns silver needs plus `document` (canonical JSON, no action) and `body` (what is
        sent: the document with the action); lines with one row per line, returns included,
        keyed by `row` (the spec row) and `line_number`.
        """
        index = pl.col("order_index")
        store = _gather(_STORE_SLOTS, pick_expr(self.seed, S_STORE, index, 100))
        guest = pick_expr(self.seed, S_GUEST, index, 100) < GUEST_PERCENT
        contact = pick_expr(self.seed, S_CONTACT, index, self.contacts)
        orders = spec.with_row_index("row").with_columns(
            (pl.lit(f"{self.order_prefix}-") + index.cast(pl.String).str.zfill(9)).alias(
                "order_id"
            ),
            pl.when(~guest).then(contact).alias("contact_index"),
            pl.when(guest)
            .then(pl.lit("guest") + index.cast(pl.String) + pl.lit("@example.net"))
            .otherwise(self.pool.email_expr(contact))
            .alias("match_key"),
            _gather([s.external_id for s in STORES], store).alias("store_id"),
            _gather([s.channel for s in STORES], store).alias("channel"),
            _gather([s.currency for s in STORES], store).alias("currency"),
            *self._delivery_columns(index),
            _gather(LINE_COUNTS, pick_expr(self.seed, S_LINES, index, len(LINE_COUNTS))).alias(
                "purchase_lines"
            ),
        )
        orders = orders.with_columns(
            pl.col("last_changed_at").fill_null(pl.col("created_at")),
            pl.when(pl.col("tracked")).then(pl.col("delivery_date")).alias("delivery_date"),
        )
        lines = self._line_frame(orders)
        per_order = lines.group_by("row", maintain_order=True).agg(
            pl.col("json").str.join(",").alias("items"),
            pl.col("total_cents").sum().alias("sub_total_cents"),
            pl.col("total_cents")
            .filter(pl.col("line_type") == "Purchase")
            .sum()
            .alias("purchase_cents"),
            pl.len().cast(pl.Int32).alias("line_count"),
        )
        orders = orders.join(per_order, on="row", how="left", maintain_order="left")
        delivery = (
            pl.when(pl.col("channel") == "Ecom")
            .then(
                pl.concat_str(
                    pl.lit(',"delivery":{"method":'),
                    _quoted(pl.col("carrier")),
                    pl.when(pl.col("tracked"))
                    .then(_tracking_json(pl.col("tracking_number"), pl.col("delivery_date")))
                    .otherwise(pl.lit("")),
                    pl.lit("}"),
                )
            )
            .otherwise(pl.lit(""))
        )
        document = pl.concat_str(
            pl.lit('{"orderId":'),
            _quoted(pl.col("order_id")),
            pl.lit(',"contact":{"matchKey":'),
            _quoted(pl.col("match_key")),
            pl.lit(',"matchKeyType":"Email"},"externalStoreId":'),
            _quoted(pl.col("store_id")),
            pl.lit(',"status":'),
            _quoted(pl.col("status")),
            pl.lit(',"externalStatus":'),
            _quoted(pl.col("external_status")),
            pl.lit(',"references":[],"currencyCode":'),
            _quoted(pl.col("currency")),
            pl.lit(',"channel":'),
            _quoted(pl.col("channel")),
            pl.lit(',"createdAt":'),
            _quoted(_iso_expr(pl.col("created_at"))),
            pl.lit(',"lastChangedAt":'),
            _quoted(_iso_expr(pl.col("last_changed_at"))),
            pl.lit(',"lineItems":{"items":['),
            pl.col("items"),
            pl.lit('],"subTotal":'),
            _money_expr(pl.col("sub_total_cents")),
            pl.lit('},"payments":{"items":[{"type":"Card","amount":'),
            _money_expr(pl.col("purchase_cents")),
            pl.lit("}]}"),
            delivery,
        )
        action = pl.when(pl.col("action").is_not_null()).then(
            pl.lit(',"action":') + pl.col("action")
        )
        orders = orders.with_columns(
            (document + pl.lit("}")).alias("document"),
            (document + action.fill_null(pl.lit("")) + pl.lit("}")).alias("body"),
            pl.when(pl.col("returns") > 0)
            .then(pl.lit("Mixed"))
            .otherwise(pl.lit("Purchase"))
            .alias("order_type"),
        ).drop("items", "carrier", "tracking_number", "purchase_lines")
        return orders, lines.drop("json", "slot")

    def _delivery_columns(self, index: pl.Expr) -> list[pl.Expr]:
        """created_at, carrier, tracking_number and delivery_date of the orders `index`."""
        carrier = pick_expr(self.seed, S_CARRIER, index, len(CARRIERS))
        created_at = self.timeline.created_at_expr(index, self.seed)
        return [
            created_at.alias("created_at"),
            _gather([name for name, _ in CARRIERS], carrier).alias("carrier"),
            pl.concat_str(
                _gather([code for _, code in CARRIERS], carrier),
                index.cast(pl.String).str.zfill(10),
                pl.lit("SE"),
            ).alias("tracking_number"),
            (created_at + pl.duration(days=3)).alias("delivery_date"),
        ]

    def _line_frame(self, orders: pl.DataFrame) -> pl.DataFrame:
        """One row per line of `orders` (purchases, then return lines), with its JSON."""
        seed = self.seed
        purchases = (
            orders.select(
                "row",
                "order_index",
                pl.int_ranges(0, pl.col("purchase_lines")).alias("line_number"),
            )
            .explode("line_number")
            .with_columns(
                (pl.col("order_index") * LINE_SLOTS + pl.col("line_number")).alias("slot")
            )
        )
        slot = pl.col("slot")
        purchases = purchases.with_columns(
            pick_expr(seed, S_ARTICLE, slot, self.articles).alias("article"),
            _gather(QUANTITIES, pick_expr(seed, S_QUANTITY, slot, len(QUANTITIES))).alias(
                "quantity"
            ),
            (pick_expr(seed, S_DISCOUNT, slot, 100) < DISCOUNT_PERCENT).alias("discounted"),
            (pick_expr(seed, S_UNREGISTERED, slot, 1000) < UNREGISTERED_PER_MILLE).alias(
                "unregistered"
            ),
        ).join(
            _catalogue_frame(self.seed, self.articles),
            on="article",
            how="left",
            maintain_order="left",
        )
        discounted = pl.col("discounted")
        original = pl.col("list_price_cents")
        price = pl.when(discounted).then(original * 8 // 10 // 100 * 100).otherwise(original)
        quantity = pl.col("quantity")
        purchases = purchases.select(
            "row",
            "order_index",
            "slot",
            "line_number",
            (pl.col("line_number") + 1).cast(pl.String).alias("line_id"),
            pl.lit("Purchase").alias("line_type"),
            pl.concat_str(
                pl.col("sku"),
                pl.when(pl.col("unregistered")).then(pl.lit("-OLD")).otherwise(pl.lit("")),
            ).alias("sku"),
            "name",
            quantity,
            price.alias("price_cents"),
            pl.when(discounted).then(original).alias("original_price_cents"),
            (price * quantity).alias("total_cents"),
            pl.when(discounted).then(original * quantity).alias("original_total_cents"),
            pl.when(discounted).then((original - price) * quantity).alias("discount_cents"),
            pl.lit(None, pl.String).alias("return_type"),
            pl.lit(None, pl.String).alias("return_reason"),
        )
        returned = (
            orders.filter(pl.col("returns") > 0)
            .select(
                "row",
                "order_index",
                "purchase_lines",
                pl.int_ranges(0, pl.col("returns")).alias("number"),
            )
            .explode("number")
            .join(
                purchases.select(
                    "row", pl.col("line_number").alias("number"), "sku", "name", "price_cents"
                ),
                on=["row", "number"],
                how="left",
                maintain_order="left",
            )
            .with_columns((pl.col("purchase_lines") + pl.col("number")).alias("line_number"))
            .with_columns(
                (pl.col("order_index") * LINE_SLOTS + pl.col("line_number")).alias("slot")
            )
        )
        slot = pl.col("slot")
        returned = returned.select(
            "row",
            "order_index",
            "slot",
            "line_number",
            pl.concat_str(pl.lit("R"), (pl.col("number") + 1).cast(pl.String)).alias("line_id"),
            pl.lit("Return").alias("line_type"),
            "sku",
            "name",
            pl.lit(1, pl.Int64).alias("quantity"),
            "price_cents",
            pl.lit(None, pl.Int64).alias("original_price_cents"),
            pl.col("price_cents").alias("total_cents"),
            pl.lit(None, pl.Int64).alias("original_total_cents"),
            pl.lit(None, pl.Int64).alias("discount_cents"),
            _gather(RETURN_TYPES, pick_expr(seed, S_RETURN_TYPE, slot, len(RETURN_TYPES))).alias(
                "return_type"
            ),
            _gather(
                RETURN_REASONS, pick_expr(seed, S_RETURN_REASON, slot, len(RETURN_REASONS))
            ).alias("return_reason"),
        )
        lines = pl.concat([purchases, returned.cast(purchases.schema)]).sort(
            "row", "line_number", maintain_order=True
        )
        return lines.with_columns(_line_json().alias("json")).rename({"name": "article_name"})

    def change_rows(
        self,
        changes: int,
        *,
        existing_orders: int,
        landed_from: datetime,
        mix: ChangeMix | None = None,
        batch_rows: int = 2000,
        first_change: int = 0,
        first_new_order: int | None = None,
        api_key_id: str = "sample-api-key",
    ) -> pl.DataFrame:
        """`changes` bronze `order_changes` rows, column-wise (the benchmarks' fast path).

        Creates make new orders from `first_new_order` (default `existing_orders`) on;
        replaces, status and delivery changes pick a random existing order (index below
        `existing_orders`), so a run exercises updates of a state. Change j of the sequence
        lands at position `j % batch_rows` of group commit `j // batch_rows`, at
        `landed_from` plus one second per commit, which is also its `lastChangedAt`: later
        changes never look stale. Job ids are UUID-shaped and unique per (seed, j).

        Besides the table's columns the frame has `order_index`; `if_match` is left null.
        Generate a long sequence in slices (`first_change`, `first_new_order`) to bound memory.
        """
        mix = mix or ChangeMix()
        seed = self.seed
        new_from = existing_orders if first_new_order is None else first_new_order
        j = pl.col("j")
        roll = pick_expr(seed, S_KIND, j, 100)
        kind = (
            pl.when(pl.lit(existing_orders == 0) | (roll < mix.create))
            .then(pl.lit("create"))
            .when(roll < mix.create + mix.change_status)
            .then(pl.lit("change_status"))
            .when(roll < mix.create + mix.change_status + mix.replace)
            .then(pl.lit("replace"))
            .otherwise(pl.lit("change_delivery"))
        )
        frame = (
            pl.DataFrame(
                {
                    "j": pl.int_range(
                        first_change, first_change + changes, eager=True, dtype=pl.Int64
                    )
                }
            )
            .with_columns(kind.alias("change_type"))
            .with_columns(
                pl.when(pl.col("change_type") == "create")
                .then(new_from + (pl.col("change_type") == "create").cum_sum().cast(pl.Int64) - 1)
                .otherwise(pick_expr(seed, S_TARGET, j, max(existing_orders, 1)))
                .alias("order_index"),
                (j // batch_rows).alias("batch"),
                (j % batch_rows).cast(pl.Int32).alias("batch_position"),
            )
            .with_columns(
                (
                    pl.lit(landed_from, pl.Datetime("us", "UTC"))
                    + pl.duration(seconds=pl.col("batch"))
                ).alias("landed_at"),
                pl.concat_str(
                    pl.lit(f"{seed % 10**8:08d}-0000-4000-8000-"),
                    j.cast(pl.String).str.zfill(12),
                ).alias("job_id"),
            )
        )
        index = pl.col("order_index")
        store = _gather(_STORE_SLOTS, pick_expr(seed, S_STORE, index, 100))
        language = _gather([s.language for s in STORES], store)
        creates = self.create_spec(
            frame.filter(pl.col("change_type") == "create").select("j", "order_index")
        )
        lines = _gather(LINE_COUNTS, pick_expr(seed, S_LINES, index, len(LINE_COUNTS)))
        replaces = (
            frame.filter(pl.col("change_type") == "replace")
            .with_columns(self.lifecycle_frame(index))
            .select(
                "j",
                "order_index",
                pl.lit("Completed").alias("status"),
                pl.lit("Returned").alias("external_status"),
                pl.col("landed_at").alias("last_changed_at"),
                "tracked",
                pl.min_horizontal(1 + pick_expr(seed, S_RETURN_LINES, index, 2), lines)
                .cast(pl.Int64)
                .alias("returns"),
                pl.when(pick_expr(seed, S_ACTION_RETURN, j, 100) < ACTION_PERCENT["return"])
                .then(_action_json("ConfirmReturn", language))
                .alias("action"),
            )
        )
        whole = pl.concat([creates, replaces])
        orders, _ = self.order_frames(whole.drop("j"))
        bodies = pl.concat(
            [whole.select("j"), orders.select("body", contact_match_key="match_key")],
            how="horizontal",
        )
        status_roll = pick_expr(seed, S_NEW_STATUS, j, 100)
        new_status = (
            pl.when(status_roll < 80)
            .then(pl.lit("Completed"))
            .when(status_roll < 90)
            .then(pl.lit("Cancelled"))
            .otherwise(pl.lit("InProgress"))
        )
        external = (
            pl.when(new_status == "Completed")
            .then(pl.lit("Delivered"))
            .when(new_status == "Cancelled")
            .then(pl.lit("Cancelled"))
            .otherwise(pl.lit("Shipped"))
        )
        shipped_action = pl.when(
            (new_status == "InProgress")
            & (pick_expr(seed, S_ACTION_CHANGE, j, 100) < ACTION_PERCENT["ship"])
        ).then(pl.lit(',"action":') + _action_json("ConfirmShipment", language))
        status_body = pl.concat_str(
            pl.lit('{"status":'),
            _quoted(new_status),
            pl.lit(',"externalStatus":'),
            _quoted(external),
            pl.lit(',"lastChangedAt":'),
            _quoted(_iso_expr(pl.col("landed_at"))),
            shipped_action.fill_null(pl.lit("")),
            pl.lit("}"),
        )
        delivery_body = pl.concat_str(
            pl.lit('{"method":'),
            _quoted(pl.col("carrier")),
            _tracking_json(pl.col("tracking_number"), pl.col("delivery_date")),
            pl.lit("}"),
        )
        patches = (
            frame.filter(pl.col("change_type").is_in(["change_status", "change_delivery"]))
            .with_columns(self._delivery_columns(index))
            .select(
                "j",
                pl.when(pl.col("change_type") == "change_status")
                .then(status_body)
                .otherwise(delivery_body)
                .alias("body"),
                pl.lit(None, pl.String).alias("contact_match_key"),
            )
        )
        bodies = pl.concat([bodies, patches])
        return (
            frame.join(bodies, on="j", how="left", maintain_order="left")
            .with_columns(
                pl.concat_str(
                    pl.lit(f"{self.order_prefix}-"), index.cast(pl.String).str.zfill(9)
                ).alias("order_id"),
                pl.lit(api_key_id).alias("api_key_id"),
                pl.lit(None, pl.String).alias("if_match"),
                pl.when(pl.col("contact_match_key").is_not_null())
                .then(pl.lit("Email"))
                .alias("contact_match_key_type"),
            )
            .select(*BRONZE_COLUMNS, "order_index")
        )

    def iter_change_rows(
        self,
        changes: int,
        *,
        existing_orders: int,
        landed_from: datetime,
        mix: ChangeMix | None = None,
        batch_rows: int = 2000,
        slice_rows: int = 100_000,
        api_key_id: str = "sample-api-key",
    ) -> Iterator[pl.DataFrame]:
        """`change_rows` for a long sequence, in slices of whole group commits."""
        slice_rows = max(batch_rows, slice_rows // batch_rows * batch_rows)
        next_new = existing_orders
        for first in range(0, changes, slice_rows):
            rows = self.change_rows(
                min(slice_rows, changes - first),
                existing_orders=existing_orders,
                landed_from=landed_from,
                mix=mix,
                batch_rows=batch_rows,
                first_change=first,
                first_new_order=next_new,
                api_key_id=api_key_id,
            )
            next_new += rows.filter(pl.col("change_type") == "create").height
            yield rows


BRONZE_COLUMNS = (
    "job_id",
    "order_id",
    "change_type",
    "landed_at",
    "batch_position",
    "api_key_id",
    "if_match",
    "body",
    "contact_match_key",
    "contact_match_key_type",
)
"""The columns of bronze `order_changes` (schemas.order_tables.ORDER_CHANGES), in its order."""


def _action_json(action: str, language: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        pl.lit(f'{{"action":"{action}","language":'), _quoted(language), pl.lit("}")
    )


def _tracking_json(number: pl.Expr, delivery_date: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        pl.lit(',"trackingNumber":'),
        _quoted(number),
        pl.lit(',"trackingUri":"https://tracking.example.org/'),
        number,
        pl.lit('","deliveryDate":'),
        _quoted(_iso_expr(delivery_date)),
    )


def _line_json() -> pl.Expr:
    """A line of `_line_frame` as canonical JSON (LineItem field order, nulls left out)."""
    money = _money_expr
    discounts = pl.concat_str(
        pl.lit(',"discounts":{"items":[{"type":"Campaign","description":"Season sale","amount":'),
        money(pl.col("discount_cents")),
        pl.lit("}]}"),
    )
    return_details = pl.concat_str(
        pl.lit(',"returnDetails":{"type":'),
        _quoted(pl.col("return_type")),
        pl.lit(',"reason":'),
        _quoted(pl.col("return_reason")),
        pl.lit("}"),
    )
    return pl.concat_str(
        pl.lit('{"id":'),
        _quoted(pl.col("line_id")),
        pl.lit(',"type":'),
        _quoted(pl.col("line_type")),
        pl.lit(',"quantity":'),
        pl.col("quantity").cast(pl.String),
        pl.lit(',"article":{"sku":'),
        _quoted(pl.col("sku")),
        pl.lit(',"name":'),
        _quoted(pl.col("name")),
        pl.lit("}"),
        pl.when(pl.col("discount_cents").is_not_null()).then(discounts).otherwise(pl.lit("")),
        pl.when(pl.col("return_type").is_not_null()).then(return_details).otherwise(pl.lit("")),
        pl.lit(',"pricePerUnit":'),
        money(pl.col("price_cents")),
        pl.when(pl.col("original_price_cents").is_not_null())
        .then(pl.lit(',"originalPricePerUnit":') + money(pl.col("original_price_cents")))
        .otherwise(pl.lit("")),
        pl.lit(',"totalPrice":'),
        money(pl.col("total_cents")),
        pl.when(pl.col("original_total_cents").is_not_null())
        .then(pl.lit(',"originalTotalPrice":') + money(pl.col("original_total_cents")))
        .otherwise(pl.lit("")),
        pl.lit("}"),
    )


@lru_cache(maxsize=8)
def _catalogue(seed: int, count: int) -> tuple[CatalogueArticle, ...]:
    return article_catalogue(seed, count)


@lru_cache(maxsize=8)
def _catalogue_frame(seed: int, count: int) -> pl.DataFrame:
    """What order lines take from the catalogue, by position (`article`)."""
    catalogue = _catalogue(seed, count)
    return pl.DataFrame(
        {
            "article": pl.Series(range(len(catalogue)), dtype=pl.Int64),
            "sku": [article.sku for article in catalogue],
            "name": [article.name for article in catalogue],
            "list_price_cents": pl.Series(
                [article.price_cents for article in catalogue], dtype=pl.Int64
            ),
        }
    )
