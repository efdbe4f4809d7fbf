"""Vocabularies for the demo archive: company names, geography, industries, stacks, people and titles.

Plain data, no logic: the generator draws integer codes and maps them onto these tuples, so every list here
is also a dictionary of an Arrow/DuckDB column. Shares are probabilities that sum to 1 (normalised on use).
"""

from __future__ import annotations

#: (industry, share of accounts, revenue per employee in USD, company-name suffixes)
INDUSTRIES: tuple[tuple[str, float, float, tuple[str, ...]], ...] = (
    ("Software", 0.16, 210_000, ("Labs", "Software", "Systems", "Cloud", "AI", "Data", "Technologies")),
    ("Fintech", 0.10, 260_000, ("Pay", "Capital", "Finance", "Ledger", "Money", "Financial")),
    ("Healthcare", 0.11, 160_000, ("Health", "Care", "Medical", "Clinics", "Bio", "Therapeutics")),
    ("Retail", 0.09, 180_000, ("Goods", "Market", "Stores", "Supply", "Outfitters", "Brands")),
    ("Manufacturing", 0.09, 230_000, ("Industries", "Manufacturing", "Works", "Components", "Materials")),
    ("Education", 0.06, 90_000, ("Learning", "Academy", "Education", "Schools", "Institute")),
    ("Government", 0.07, 120_000, ("Agency", "Authority", "Services Board", "Commission", "Council")),
    ("Media", 0.06, 170_000, ("Media", "Studios", "Publishing", "Broadcasting", "Entertainment")),
    ("Logistics", 0.07, 190_000, ("Logistics", "Freight", "Transport", "Shipping", "Fleet")),
    ("Real Estate", 0.05, 240_000, ("Properties", "Realty", "Estates", "Homes", "Land")),
    ("Energy", 0.06, 420_000, ("Energy", "Power", "Solar", "Utilities", "Renewables")),
    ("Professional Services", 0.08, 150_000, ("Partners", "Consulting", "Advisors", "Group", "Associates")),
)

#: (country, ISO-like code for phones/emails, sub-region, territory, share)
COUNTRIES: tuple[tuple[str, str, str, str, float], ...] = (
    ("United States", "+1", "North America", "NA", 0.40),
    ("Canada", "+1", "North America", "NA", 0.06),
    ("United Kingdom", "+44", "UK & Ireland", "EMEA", 0.08),
    ("Ireland", "+353", "UK & Ireland", "EMEA", 0.015),
    ("Germany", "+49", "DACH", "EMEA", 0.06),
    ("Switzerland", "+41", "DACH", "EMEA", 0.015),
    ("France", "+33", "Southern Europe", "EMEA", 0.04),
    ("Spain", "+34", "Southern Europe", "EMEA", 0.02),
    ("Netherlands", "+31", "Benelux", "EMEA", 0.025),
    ("Sweden", "+46", "Nordics", "EMEA", 0.02),
    ("Denmark", "+45", "Nordics", "EMEA", 0.01),
    ("Israel", "+972", "Middle East", "EMEA", 0.015),
    ("United Arab Emirates", "+971", "Middle East", "EMEA", 0.01),
    ("South Africa", "+27", "Africa", "EMEA", 0.01),
    ("Australia", "+61", "ANZ", "APAC", 0.04),
    ("New Zealand", "+64", "ANZ", "APAC", 0.01),
    ("Singapore", "+65", "Southeast Asia", "APAC", 0.02),
    ("Japan", "+81", "East Asia", "APAC", 0.025),
    ("India", "+91", "South Asia", "APAC", 0.035),
    ("South Korea", "+82", "East Asia", "APAC", 0.01),
    ("Brazil", "+55", "South America", "LATAM", 0.03),
    ("Argentina", "+54", "South America", "LATAM", 0.01),
    ("Chile", "+56", "South America", "LATAM", 0.008),
    ("Colombia", "+57", "South America", "LATAM", 0.009),
    ("Mexico", "+52", "Central America", "LATAM", 0.018),
)

TLDS: tuple[str, ...] = (".com", ".io", ".co", ".ai", ".net", ".tech", ".app", ".group")

NAME_ROOTS_A: tuple[str, ...] = (
    "North", "Blue", "Silver", "Bright", "Red", "Green", "Iron", "Stone", "Clear", "High", "Swift", "Oak",
    "Pine", "River", "Summit", "Sun", "Star", "Cedar", "Maple", "Harbor", "Crest", "Golden", "Quick", "Wild",
    "Deep", "True", "Open", "Far", "Nova", "Echo", "Apex", "Zen", "Terra", "Aqua", "Polar", "Urban", "Prime",
    "Vast", "Bold", "Lumen", "Atlas", "Orbit", "Pixel", "Vector", "Quantum", "Metro", "Fox", "Wolf", "Hawk",
    "Eagle", "Coral", "Amber", "Ivy", "Copper", "Cobalt", "Crimson", "Indigo", "Velvet", "Granite", "Willow",
)
NAME_ROOTS_B: tuple[str, ...] = (
    "wind", "field", "gate", "bridge", "path", "point", "ridge", "wave", "light", "stream", "peak", "line",
    "rock", "leaf", "brook", "haven", "view", "mark", "forge", "spark", "works", "way", "shore", "dale",
    "vale", "crest", "port", "mill", "well", "stack", "loop", "hub", "grid", "flow", "craft", "nest",
    "yard", "bay", "fall", "land", "scape", "sight", "tide", "beam", "core", "frame", "wing", "moor",
)

FUNDING_STAGES: tuple[str, ...] = (
    "Pre-seed", "Seed", "Series A", "Series B", "Series C", "Series D+", "Private Equity", "Public", "Bootstrapped",
)
BUSINESS_MODELS: tuple[str, ...] = ("B2B", "B2C", "B2B2C", "Marketplace")

SALES_REPS: tuple[str, ...] = (
    "Avery Collins", "Jordan Patel", "Morgan Reyes", "Taylor Nguyen", "Casey Schmidt", "Riley Okafor",
    "Jamie Lindqvist", "Quinn Moreau", "Drew Tanaka", "Alex Romero", "Sam Whitaker", "Cameron Diallo",
    "Harper Kowalski", "Rowan Fischer", "Skyler Mendes", "Emerson Brooks", "Logan Castillo", "Parker Haddad",
    "Reese Johansson", "Blake Ferreira",
)

#: (technology, share of accounts with it in their stack)
TECHNOLOGIES: tuple[tuple[str, float], ...] = (
    ("Salesforce", 0.42), ("HubSpot", 0.33), ("Snowflake", 0.22), ("Segment", 0.14), ("Okta", 0.28),
    ("Slack", 0.62), ("Zendesk", 0.24), ("Jira", 0.41), ("Workday", 0.13), ("NetSuite", 0.18),
    ("Stripe", 0.21), ("AWS", 0.52), ("Azure", 0.24), ("Google Cloud", 0.15), ("Intercom", 0.12),
    ("Marketo", 0.09), ("Databricks", 0.08), ("Looker", 0.10), ("Tableau", 0.15), ("Gong", 0.10),
)

FIRST_NAMES: tuple[str, ...] = (
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Sophia", "Mateo", "Mia", "Ethan", "Isabella", "James",
    "Amelia", "Benjamin", "Charlotte", "Daniel", "Chloe", "David", "Grace", "Elena", "Hannah", "Omar", "Priya",
    "Arjun", "Wei", "Mei", "Hiroshi", "Yuki", "Fatima", "Ahmed", "Sofia", "Diego", "Camila", "Javier", "Lars",
    "Ingrid", "Pierre", "Claire", "Marco", "Giulia", "Thomas", "Anna", "Kwame", "Amara", "Nina", "Victor",
    "Rachel", "Michael", "Sarah", "Kevin", "Laura", "Brian", "Julia", "Ryan", "Megan", "Tom", "Zoe", "Ivan",
    "Olga", "Rahul", "Ananya", "Carlos", "Lucia", "Felix", "Leonie", "Samuel", "Aisha", "Ben", "Ruth", "Tariq",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Wilson",
    "Anderson", "Thomas", "Moore", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Chen", "Wang", "Kim", "Singh", "Kumar", "Sato", "Suzuki",
    "Muller", "Schneider", "Dubois", "Laurent", "Rossi", "Bianchi", "Novak", "Kowalczyk", "Hansen", "Berg",
    "Silva", "Santos", "Oliveira", "Hernandez", "Gonzalez", "Okonkwo", "Mensah", "Cohen", "Levi", "Ali",
    "Haddad", "Ivanova", "Petrov", "O'Brien", "Murphy", "Kelly", "Nakamura", "Park", "Tran", "Nguyen", "Shah",
)

#: Titles: (normalized title, department, seniority, raw variants; the first variant is the normalized one).
TITLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "CFO": ("Finance", "C-level", ("CFO", "Chief Financial Officer")),
    "VP Finance": ("Finance", "VP", ("VP Finance", "VP of Finance", "Vice President, Finance")),
    "Controller": ("Finance", "Director", ("Controller", "Financial Controller")),
    "CEO": ("Executive", "C-level", ("CEO", "Chief Executive Officer")),
    "COO": ("Operations", "C-level", ("COO", "Chief Operating Officer")),
    "Head of RevOps": ("Revenue Operations", "Director", ("Head of RevOps", "Head of Revenue Operations")),
    "RevOps Manager": ("Revenue Operations", "Manager", ("RevOps Manager", "Revenue Operations Manager")),
    "Sales Ops Manager": ("Sales", "Manager", ("Sales Ops Manager", "Sales Operations Manager")),
    "Director of Sales": ("Sales", "Director", ("Director of Sales", "Sales Director")),
    "IT Director": ("IT", "Director", ("IT Director", "Director of IT")),
    "Security Engineer": ("IT", "Individual Contributor", ("Security Engineer", "Senior Security Engineer")),
    "Solutions Architect": ("IT", "Individual Contributor", ("Solutions Architect",)),
    "Procurement Manager": ("Procurement", "Manager", ("Procurement Manager", "Purchasing Manager")),
    "Operations Manager": ("Operations", "Manager", ("Operations Manager", "Ops Manager")),
    "Business Analyst": ("Operations", "Individual Contributor", ("Business Analyst", "Analyst")),
    "Account Executive": ("Sales", "Individual Contributor", ("Account Executive",)),
    "Marketing Manager": ("Marketing", "Manager", ("Marketing Manager",)),
    "Data Engineer": ("IT", "Individual Contributor", ("Data Engineer",)),
}
TITLE_NAMES: tuple[str, ...] = tuple(TITLES)

LOST_REASONS: tuple[str, ...] = (
    "Price", "No decision", "Lost to competitor", "Missing feature", "Timing", "Budget", "Security review",
    "Champion left",
)
SOURCES: tuple[str, ...] = ("Inbound", "Outbound", "Partner", "Event", "Referral")
PRODUCTS: tuple[str, ...] = ("Starter", "Growth", "Enterprise")

FEATURES: tuple[str, ...] = ("sso", "api", "dashboards", "workflows", "audit_log", "integrations_hub")
#: Adoption share among customers for every feature but the planted one (see plan.py).
FEATURE_BASE_ADOPTION: dict[str, float] = {
    "api": 0.40, "dashboards": 0.85, "workflows": 0.50, "audit_log": 0.20, "integrations_hub": 0.35,
}

COMPETITORS: tuple[str, ...] = (
    "Clari", "Gainsight", "Totango", "ChurnZero", "Planhat", "Vitally", "People.ai", "6sense",
)
PRODUCT_FEATURES: tuple[str, ...] = (
    "SSO", "the API", "custom dashboards", "workflow builder", "audit log", "Salesforce sync",
    "HubSpot integration", "Snowflake connector", "role-based permissions", "bulk export", "forecasting view",
    "Slack alerts", "sandbox environment", "usage reports",
)
