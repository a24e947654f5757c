"""The small sample the app ships for machines without the shared data folder: a few rights
whose facts are taken from the real registry responses described in SOURCES.md."""

from __future__ import annotations

from datetime import date

from sandbox_registry.models import Kind, Office, PartyRole
from sandbox_registry.seeding import AssignmentSeed, EntrySeed, Seeds
from sandbox_registry.vocabulary import us_patent_status


def sample_seeds(*, today: date) -> Seeds:
    seeds = Seeds()
    gh = {"role": PartyRole.APPLICANT, "sequence": 1, "name": "The General Hospital Corporation"}
    seeds.entries.append(
        EntrySeed(
            kind=Kind.US_PATENT,
            fields={
                "office": Office.USPTO,
                "application_type": "UTL",
                "application_number": "15123456",
                "title": "TONGUE RETRACTORS FOR FRENOTOMIES",
                "status_code": "161",
                "status_text": "Abandoned -- Failure to Respond to an Office Action",
                "status_date": date(2018, 10, 2),
                "filing_date": date(2016, 9, 2),
                "publication_number": "US 2017-0071586 A1",
                "publication_date": date(2017, 3, 16),
                "parent_application_number": "PCT/US15/27322",
                "parent_relation": "NST",
                "parent_filing_date": date(2015, 4, 23),
                "source": "sample",
            },
            parties=[
                gh | {"address_line_1": "55 Fruit Street", "city": "Boston", "region": "MA", "country_code": "US"}
            ],
        )
    )
    seeds.assignments.append(
        AssignmentSeed(
            register="patent",
            fields={
                "reel": 47305,
                "frame": 442,
                "conveyance_text": "ASSIGNMENT OF ASSIGNORS INTEREST (SEE DOCUMENT FOR DETAILS).",
                "recorded_date": date(2018, 10, 25),
                "page_count": 4,
            },
            parties=[
                {"role": "assignor", "name": "WANG, MARVIN", "execution_date": date(2018, 9, 23)},
                {"role": "assignee", "name": "THE GENERAL HOSPITAL CORPORATION", "city": "BOSTON", "region": "MA"},
            ],
            properties=[(Kind.US_PATENT, "application_number", "15123456")],
        )
    )
    for patent, application, title, expiry in (
        ("6858197", "10099247", "Cooling System Using Superfluid Helium", date(2019, 11, 30)),
        ("7767270", "11387503", "Selective Functionalization of Carbon Nanotubes", date(2025, 11, 5)),
        ("8409491", "13215206", "In-Situ Formation of Reinforcement Phases", date(2027, 9, 28)),
    ):
        code, text = us_patent_status(
            application_type="UTL", filing_date=None, grant_date=None, stated_expiry=expiry, granted=True, today=today
        )
        seeds.entries.append(
            EntrySeed(
                kind=Kind.US_PATENT,
                fields={
                    "office": Office.USPTO,
                    "application_type": "UTL",
                    "application_number": application,
                    "patent_number": patent,
                    "title": title,
                    "status_code": code,
                    "status_text": text,
                    "expiry_date": expiry,
                    "source": "sample",
                },
                parties=[
                    {
                        "role": PartyRole.APPLICANT,
                        "sequence": 1,
                        "name": "National Aeronautics and Space Administration",
                    }
                ],
            )
        )
    seeds.entries.append(
        EntrySeed(
            kind=Kind.US_TRADEMARK,
            fields={
                "office": Office.USPTO,
                "application_type": "Trademark",
                "application_number": "74631225",
                "registration_number": "2178784",
                "title": "JAVA",
                "status_code": "800",
                "status_text": "The registration has been renewed.",
                "status_date": date(2008, 8, 11),
                "filing_date": date(1995, 2, 7),
                "registration_date": date(1998, 8, 4),
                "renewal_date": date(2008, 8, 4),
                "classes": ["009"],
                "details": {"maintenance_filings": [{"section": "8", "decision": "Accepted"}]},
                "source": "sample",
            },
            parties=[
                {
                    "role": PartyRole.APPLICANT,
                    "sequence": 31,
                    "role_text": "SUBSEQUENT OWNER AFTER REGISTRATION",
                    "name": "Oracle America, Inc.",
                    "entity_type": "CORPORATION",
                    "address_line_1": "500 ORACLE PARKWAY",
                    "city": "REDWOOD SHORES",
                    "region": "CALIFORNIA",
                    "postal_code": "94065",
                    "country_code": "US",
                },
                {
                    "role": PartyRole.APPLICANT,
                    "sequence": 10,
                    "role_text": "ORIGINAL APPLICANT",
                    "name": "Sun Microsystems, Inc.",
                },
            ],
        )
    )
    seeds.entries.append(
        EntrySeed(
            kind=Kind.EU_TRADE_MARK,
            fields={
                "office": Office.EUIPO,
                "application_type": "FIGURATIVE",
                "application_number": "000274084",
                "title": "RIZLA+ INTERNATIONAL",
                "status_code": "EXPIRED",
                "status_text": "Expired",
                "filing_date": date(1996, 6, 19),
                "registration_date": date(1999, 2, 10),
                "expiry_date": date(2006, 6, 19),
                "classes": ["25", "34"],
                "source": "sample",
            },
            parties=[
                {
                    "role": PartyRole.APPLICANT,
                    "sequence": 1,
                    "name": "John Player & Sons Limited",
                    "identifier": "191368",
                }
            ],
        )
    )
    seeds.count("sample", len(seeds.entries))
    return seeds
