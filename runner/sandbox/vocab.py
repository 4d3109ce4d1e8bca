"""The generated company's vocabulary: people's names, departments, statuses and their weights, app and role names.

Pure data, no I/O. `attributes` draws every generated property from these tables, so changing one changes the
sandbox's graph (and the example reports built on it) deterministically.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST = ("Ada", "Alan", "Alice", "Amir", "Ana", "Arjun", "Ben", "Bianca", "Carlos", "Chen", "Chloe", "Dana", "David",
         "Diego", "Elena", "Emma", "Ethan", "Fatima", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jack",
         "Jamal", "Jin", "Julia", "Kai", "Kenji", "Laura", "Leo", "Lina", "Lucas", "Maya", "Mei", "Mia", "Noah",
         "Nora", "Omar", "Olga", "Priya", "Quinn", "Rafael", "Rosa", "Sam", "Sara", "Sofia", "Tariq", "Theo",
         "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoe")
LAST = ("Abebe", "Alvarez", "Anderson", "Baker", "Bauer", "Chen", "Costa", "Dubois", "Evans", "Fischer", "Garcia",
        "Gupta", "Hansen", "Ito", "Jansen", "Kim", "Kowalski", "Larsen", "Lee", "Lopez", "Martin", "Meyer", "Moreau",
        "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Petrov", "Quispe", "Rossi", "Santos", "Schmidt",
        "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Torres", "Wagner", "Walsh", "Wang", "Weber",
        "Williams", "Yilmaz", "Zhang")
DEPARTMENTS = ("Engineering", "Data", "Finance", "Sales", "Marketing", "Security", "IT", "HR", "Legal", "Support")
TITLES = ("Engineer", "Senior Engineer", "Analyst", "Manager", "Director", "Specialist", "Intern", "Lead")
OKTA_STATUSES = (("ACTIVE", 82), ("STAGED", 4), ("SUSPENDED", 6), ("DEPROVISIONED", 8))
CLASSIFICATIONS = (("PUBLIC", 25), ("INTERNAL", 35), ("CONFIDENTIAL", 25), ("RESTRICTED", 15))
RISK_LEVELS = (("NONE", 40), ("LOW", 30), ("MEDIUM", 18), ("HIGH", 9), ("CRITICAL", 3))
AZURE_GROUPS = ("Global Administrators", "Privileged Role Administrators", "Security Administrators",
                "Exchange Administrators", "All Employees", "All Guests")
AZURE_SKUS = ("ENTERPRISEPACK", "SPE_E3", "SPE_E5", "POWER_BI_PRO", "EMS", "AAD_PREMIUM_P2", "VISIOCLIENT",
              "PROJECTPREMIUM")
OKTA_APPS = ("AWS IAM Identity Center", "Snowflake", "Microsoft Office 365", "GitHub Enterprise", "Jira Cloud",
             "Slack", "Zoom", "Salesforce", "Workday", "Google Workspace")
SANDBOX_ACCOUNTS = ("111111111111", "222222222222")  # queries/vars/sandbox.yaml names these two
ROLE_NAMES = ("Admin", "ReadOnly", "DataEngineer", "Developer", "Analyst", "SecurityAudit", "Billing", "DeployBot",
              "Support", "PowerUser")
SF_ROLE_NAMES = ("ACCOUNTADMIN", "SYSADMIN", "SECURITYADMIN", "ANALYST", "LOADER", "REPORTING", "DATA_SCIENCE",
                 "FINANCE_READ", "ENGINEERING", "MARKETING_READ")
WORDS = ("customer", "orders", "events", "billing", "logs", "backup", "analytics", "payments", "ml", "marketing",
         "hr", "audit", "invoices", "sessions", "clickstream", "inventory")


@dataclass(frozen=True, kw_only=True, slots=True)
class Person:
    first: str
    last: str
    number: int  # disambiguates people beyond len(FIRST) * len(LAST)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def handle(self) -> str:
        return f"{self.first.lower()}.{self.last.lower()}{self.number or ''}"

    @property
    def email(self) -> str:
        return f"{self.handle}@acme.example"


def person(ordinal: int) -> Person:
    """The person behind the Okta user with this ordinal: injective, so emails are unique."""
    f, rest = ordinal % len(FIRST), ordinal // len(FIRST)
    return Person(first=FIRST[f], last=LAST[(rest + 7 * f) % len(LAST)], number=rest // len(LAST))
