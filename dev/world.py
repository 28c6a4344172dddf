"""The synthetic world both SaaS emulators draw from, so their data overlaps like real systems do.

Companies and a pool of "known" people are generated once from a seed (Faker). The cloud app's signups
pick owners partly from the known pool and partly as new people; the Salesforce emulator's seed holds
leads, contacts and accounts for some of the same people and companies, so matching and conversion have
real work to do.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from dataclasses import dataclass

from faker import Faker

PERSONAL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me")
# Cloud regions of the app, and the sales region each belongs to (dbt routes owners by the latter).
CLOUD_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1")
# The UTC offset (hours) the app writes a workspace's timestamps in: its region's local standard time.
REGION_UTC_OFFSETS = {"us-east-1": -5, "us-west-2": -8, "eu-west-1": 0, "eu-central-1": 1, "ap-southeast-1": 8}
# Names that break naive code: accents, non-Latin scripts, apostrophes.
UNICODE_NAMES = (("Zoë", "Ångström"), ("José", "Núñez"), ("Björk", "Guðmundsdóttir"), ("李", "小龍"),
                 ("Łukasz", "Żółć"), ("Siobhán", "O'Brien"), ("Søren", "Kierkegård"), ("Ήρα", "Παππάς"))  # fmt: skip


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    country: str


@dataclass(frozen=True)
class Person:
    user_id: str
    first_name: str
    last_name: str
    email: str
    company: Company | None  # None: signs up with a personal email address


@dataclass(frozen=True)
class World:
    seed: int
    companies: tuple[Company, ...]
    known_people: tuple[Person, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower()) or "x"


def email_for(first: str, last: str, domain: str, suffix: str = "") -> str:
    return f"{_slug(first)}.{_slug(last)}{suffix}@{domain}"


@functools.lru_cache(maxsize=4)
def build_world(seed: int = 42, companies: int = 80, known_people: int = 200) -> World:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    seen: set[str] = set()
    company_list = []
    while len(company_list) < companies:
        name = fake.company()
        domain = f"{_slug(name.split(',')[0])[:20]}.{rng.choice(['com', 'io', 'co', 'net', 'de', 'fr'])}"
        if domain in seen or name in seen:  # CRM seed references accounts by name: keep names unique
            continue
        seen.update((domain, name))
        company_list.append(Company(name=name, domain=domain, country=fake.country_code()))
    first_names = tuple(sorted({fake.first_name() for _ in range(400)})) + tuple(f for f, _ in UNICODE_NAMES)
    last_names = tuple(sorted({fake.last_name() for _ in range(400)})) + tuple(last for _, last in UNICODE_NAMES)
    people = []
    for n in range(known_people):
        first, last = rng.choice(first_names), rng.choice(last_names)
        company = rng.choice(company_list) if rng.random() < 0.8 else None
        domain = company.domain if company else rng.choice(PERSONAL_DOMAINS)
        people.append(Person(f"usr_k{n:05d}", first, last, email_for(first, last, domain, str(n)), company))
    return World(seed, tuple(company_list), tuple(people), first_names, last_names)


# Sales regions of the Salesforce seed's account managers, by alias (inactive ones end in 0).
ACTIVE_MANAGERS = ("amer1", "amer2", "emea1", "emea2", "apac1", "apac2")
INACTIVE_MANAGERS = ("amer0", "emea0")


def crm_overlap(world: World, accounts: int = 20, leads: int = 70, contacts: int = 30) -> dict[str, list[dict]]:
    """Salesforce records for part of the world, so signups meet leads, contacts and accounts they match.

    Accounts for the first companies (Website = their domain), Leads for the first known people (some owned
    by inactive users, so routing must fall back), Contacts for the next ones (linked to their company's
    account when it has one). References use the Salesforce seed's ``{field: value}`` convention.
    """
    rng = random.Random(world.seed + 1)
    account_companies = world.companies[:accounts]
    account_names = {c.name for c in account_companies}
    seed: dict[str, list[dict]] = {"Account": [], "Lead": [], "Contact": []}
    for n, company in enumerate(account_companies):
        seed["Account"].append(
            {
                "Name": company.name,
                "Website": company.domain,
                "Type": "Prospect",
                "BillingCountry": company.country,
                "OwnerId": {"Alias": ACTIVE_MANAGERS[n % len(ACTIVE_MANAGERS)]},
            }
        )
    for person in world.known_people[:leads]:
        owner = rng.choice(INACTIVE_MANAGERS) if rng.random() < 0.2 else rng.choice((*ACTIVE_MANAGERS, "queue"))
        seed["Lead"].append(
            {
                "FirstName": person.first_name,
                "LastName": person.last_name,
                "Company": person.company.name if person.company else "[not provided]",
                "Email": person.email,
                "Status": "Open - Not Contacted",
                "LeadSource": "Web",
                "OwnerId": {"Alias": owner},
            }
        )
    for person in world.known_people[leads : leads + contacts]:
        contact: dict[str, object] = {
            "FirstName": person.first_name,
            "LastName": person.last_name,
            "Email": person.email,
            "LeadSource": "Web",
            "OwnerId": {"Alias": rng.choice(ACTIVE_MANAGERS)},
        }
        if person.company and person.company.name in account_names:
            contact["AccountId"] = {"Name": person.company.name}
        seed["Contact"].append(contact)
    return seed
