"""The demo world's cast: three clients, their accounts on every platform, their campaigns.

This is declaration only; ``world`` turns it into ads and daily numbers. IDs follow each
platform's real style (Google customer ids of ten digits, Meta ``act_`` accounts, ...) and are
what ``content/<client>/client.yml`` refers to. Some names are deliberately hostile (markup,
script tags, emoji, right-to-left text, a 300-character name): every stage downstream must
carry them safely.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CLIENTS", "AccountSpec", "CampaignSpec", "ClientSpec"]

LONG_NAME = (
    "Always-on prospecting — lookalike audiences 1-3% of purchasers in the last 180 days, "
    "excluding existing customers, newsletter subscribers and anyone who visited the returns "
    "page; dynamic creative with catalogue overlays, automatic placements, cost cap bidding "
    "tuned weekly by the performance team after the Thursday review meeting with the client"
)
assert len(LONG_NAME) >= 300


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign's true economics, in the account currency.

    ``budget`` is daily spend at the start, ``growth`` the multiplicative change per 30 days,
    ``budget_steps`` (day offset from the world's start, factor) are budget changes.
    ``view_cvr`` is view-through conversions per impression (0 for search).
    """

    name: str
    objective: str
    budget: float
    cpm: float
    ctr: float
    cvr: float
    aov: float
    view_cvr: float = 0.0
    growth: float = 1.0
    start_day: int = 0
    budget_steps: tuple[tuple[int, float], ...] = ()
    ad_groups: tuple[str, ...] = ("Core", "Expansion")
    ab_test: bool = False


@dataclass(frozen=True)
class AccountSpec:
    """One account on one platform. ``networks`` are the platform values its rows carry."""

    source: str
    account_id: str
    name: str
    currency: str
    timezone: str
    campaigns: tuple[CampaignSpec, ...]
    networks: tuple[str, ...] = ()

    @property
    def platforms(self) -> tuple[str, ...]:
        return self.networks or (self.source,)


@dataclass(frozen=True)
class ClientSpec:
    slug: str
    name: str
    profile: str  # ecommerce | b2b | local
    currency: str
    timezone: str
    primary_action: str
    secondary_action: str
    accounts: tuple[AccountSpec, ...]
    copy: tuple[tuple[str, str], ...]  # (headline, body) pairs for ads


C = CampaignSpec
NY, CHI, LA, BER = "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/Berlin"
META = ("facebook", "instagram")

# The cast as a table: one campaign per line, columns as in CampaignSpec
# (name, objective, daily budget, CPM, CTR, CVR, value per conversion, ...).
# fmt: off
NORTHWIND = ClientSpec(
    slug="northwind", name="Northwind Outfitters", profile="ecommerce", currency="USD",
    timezone=NY, primary_action="purchase", secondary_action="add_to_cart",
    copy=(
        ("Waterproof shells, built for storms", "Seam-sealed, 3-layer, lifetime repairs."),
        ("Free returns on every jacket", "Try it on the trail for 60 days."),
        ("<b>Summer</b> sale: 30% off", "Ends Sunday <img src=x onerror=alert(1)>"),
        ("🔥 Best-selling down parka", "Rated 4.9/5 by 12,000 hikers ❄️🏔️"),
        ("عرض خاص على السترات", "شحن مجاني لجميع الطلبات"),
        ("Layer up for autumn", "Merino base layers from $39."),
    ),
    accounts=(
        AccountSpec("google_ads", "4829103756", "Northwind — US", "USD", NY, (
            C("Search — Brand", "search", 220, 48, 0.12, 0.085, 96, growth=1.01),
            C("Search — Non-brand jackets", "search", 520, 70, 0.047, 0.031, 118, growth=1.03,
              budget_steps=((300, 1.35),), ab_test=True),
            C("Shopping — All products", "shopping", 760, 11, 0.013, 0.027, 84, growth=1.02,
              budget_steps=((250, 0.8), (420, 1.4))),
            C('Performance Max — Summer <script>alert("xss")</script> Sale', "pmax", 430, 7.5,
              0.009, 0.021, 79, start_day=120),
        )),
        AccountSpec("google_ads", "5930214867", "Northwind — EU", "EUR", BER, (
            C("Suche — Marke", "search", 90, 40, 0.11, 0.07, 88),
            C("Shopping — Winterjacken ❄️", "shopping", 240, 9.5, 0.012, 0.022, 92,
              budget_steps=((390, 1.5),)),
        )),
        AccountSpec("meta", "act_1029384756", "Northwind Outfitters", "USD", NY, (
            C("Prospecting — Broad", "prospecting", 640, 10.5, 0.011, 0.018, 74,
              view_cvr=0.00004, growth=1.02, ab_test=True),
            C("Retargeting — Cart abandoners", "retargeting", 210, 16, 0.019, 0.052, 88,
              view_cvr=0.0001),
            C(LONG_NAME, "prospecting", 300, 9.0, 0.009, 0.014, 70, view_cvr=0.00003,
              start_day=200),
            C("عرض خاص — حملة الربيع", "prospecting", 120, 8.0, 0.01, 0.012, 65,
              view_cvr=0.00002, start_day=260),
        ), networks=META),
        AccountSpec("tiktok", "7012345678901234567", "Northwind TikTok", "USD", NY, (
            C("Spark Ads — Trail tested", "video", 260, 6.0, 0.008, 0.011, 68, view_cvr=0.00002,
              growth=1.05),
            C("Catalog — Best sellers", "catalog", 180, 7.0, 0.01, 0.016, 72, start_day=150),
        )),
        AccountSpec("pinterest", "549755813888", "Northwind Pins", "USD", NY, (
            C("Shopping — Outdoor looks", "shopping", 150, 5.5, 0.006, 0.012, 90,
              view_cvr=0.00001),
            C("Awareness — Autumn layers", "awareness", 90, 4.0, 0.004, 0.006, 80),
        )),
        AccountSpec("amazon_ads", "3456789012345678", "Northwind Amazon US", "USD", LA, (
            C("SP — Jackets exact", "sponsored_products", 340, 4.2, 0.0042, 0.07, 58),
            C("SP — Auto campaign", "sponsored_products", 160, 3.1, 0.0035, 0.05, 52),
        )),
        AccountSpec("microsoft_ads", "180234567", "Northwind — Bing", "USD", NY, (
            C("Search — Brand", "search", 70, 35, 0.1, 0.08, 99),
            C("Shopping — All products", "shopping", 150, 9, 0.011, 0.024, 86),
        )),
        AccountSpec("file", "newsletter", "Northwind Newsletter", "USD", NY, (
            C("Newsletter — Weekly picks", "email", 35, 1.5, 0.035, 0.03, 92),
        ), networks=("newsletter",)),
        AccountSpec("ga4", "312456789", "northwindoutfitters.com", "USD", NY, ()),
    ),
)

BRIGHTLINE = ClientSpec(
    slug="brightline", name="Brightline Software", profile="b2b", currency="USD",
    timezone=CHI, primary_action="lead", secondary_action="signup",
    copy=(
        ("Ship data pipelines in an afternoon", "Connect 300+ sources. SOC 2 Type II."),
        ("The 2026 State of Data Ops report", "Download the free 40-page benchmark."),
        ("Book a 20-minute demo", "See lineage, tests and alerts on your own stack."),
        ("Stop babysitting cron jobs & scripts", "Declarative pipelines, <i>versioned</i>."),
        ("Trusted by 1,200 data teams 🚀", "Start free — no card needed."),
    ),
    accounts=(
        AccountSpec("google_ads", "7361928450", "Brightline — Search", "USD", CHI, (
            C("Search — Brand", "search", 120, 300, 0.12, 0.09, 400),
            C("Search — Competitors", "search", 260, 500, 0.035, 0.028, 400, growth=1.02),
            C("Search — Data pipeline (non-brand)", "search", 340, 420, 0.04, 0.03, 400,
              budget_steps=((330, 1.3),), ab_test=True),
        )),
        AccountSpec("linkedin", "508765432", "Brightline Software", "USD", CHI, (
            C("Sponsored Content — Data leaders", "sponsored_content", 420, 34, 0.0055,
              0.045, 0, view_cvr=0.000006, growth=1.03, ab_test=True),
            C("Lead Gen Form — State of Data Ops", "lead_gen", 300, 38, 0.0065, 0.11, 0,
              budget_steps=((360, 1.5),)),
            C("Conversation Ads — Demo invite", "conversation", 110, 45, 0.004, 0.06, 0,
              start_day=210),
        )),
        AccountSpec("microsoft_ads", "180345678", "Brightline — Bing", "USD", CHI, (
            C("Search — Brand", "search", 35, 40, 0.12, 0.08, 50),
            C("Search — Non-brand", "search", 80, 42, 0.036, 0.02, 50),
        )),
        AccountSpec("x", "18ce54d4x5t", "Brightline on X", "USD", CHI, (
            C("Promoted posts — Launch week", "engagement", 90, 6.5, 0.009, 0.006, 0),
            C("Website visits — Report", "website_clicks", 70, 7.2, 0.011, 0.009, 0),
        )),
        AccountSpec("reddit", "t2_7xk3p9qz", "Brightline Reddit", "USD", CHI, (
            C("r/dataengineering — Conversation", "traffic", 80, 5.0, 0.007, 0.012, 0),
        )),
        AccountSpec("ga4", "398765432", "brightline.dev", "USD", CHI, ()),
    ),
)

HARBOR = ClientSpec(
    slug="harbor", name="Harbor Dental Group", profile="local", currency="USD",
    timezone=LA, primary_action="lead", secondary_action="contact",
    copy=(
        ("Emergency dentist — open today", "Same-day appointments in 4 Bay Area clinics."),
        ("Invisalign from $89/month", "Free 3D smile scan & consultation."),
        ("New patient special: $79", "Exam, X-rays & cleaning. Book online."),
        ("Gentle care for nervous patients 😁", "Sedation options, Saturday hours."),
    ),
    accounts=(
        AccountSpec("google_ads", "2184736590", "Harbor Dental — Search", "USD", LA, (
            C("Search — Emergency dentist", "search", 160, 450, 0.07, 0.09, 260, growth=1.01),
            C("Search — Invisalign", "search", 210, 380, 0.05, 0.04, 900,
              budget_steps=((280, 1.25),), ab_test=True),
            C("Local — Call ads", "local", 90, 300, 0.045, 0.1, 200, start_day=60),
        )),
        AccountSpec("meta", "act_2039485761", "Harbor Dental Group", "USD", LA, (
            C("Lead ads — New patient special", "lead_gen", 140, 12, 0.012, 0.08, 0,
              view_cvr=0.00002, ab_test=True),
            C("Awareness — Bay Area moms", "awareness", 60, 7, 0.006, 0.02, 0),
        ), networks=META),
        AccountSpec("snapchat", "8a1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "Harbor Snap", "USD", LA, (
            C("Story ads — Smile makeover", "awareness", 50, 3.5, 0.007, 0.01, 0,
              view_cvr=0.000005),
        )),
        AccountSpec("microsoft_ads", "180456789", "Harbor — Bing", "USD", LA, (
            C("Search — Emergency dentist", "search", 40, 380, 0.07, 0.08, 260),
        )),
        AccountSpec("file", "offline", "Harbor — Radio & print", "USD", LA, (
            C("Radio — Morning drive", "awareness", 110, 8.0, 0.002, 0.06, 0,
              ad_groups=("KQED", "KFOG")),
        ), networks=("offline",)),
        AccountSpec("ga4", "276543210", "harbordental.com", "USD", LA, ()),
    ),
)
# fmt: on

CLIENTS: tuple[ClientSpec, ...] = (NORTHWIND, BRIGHTLINE, HARBOR)
