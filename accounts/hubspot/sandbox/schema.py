"""What a fresh HubSpot portal holds before anyone writes to it: object types, built-in
properties, the default deal pipeline, association types."""

from __future__ import annotations

from typing import Any

from .support_schema import (
    SUPPORT_ASSOCIATION_TYPES,
    SUPPORT_CREATE_PROPERTY,
    SUPPORT_DEFAULT_PROPERTIES,
    SUPPORT_PRIMARY_TYPES,
    SUPPORT_SINGULAR,
    SUPPORT_TYPE_IDS,
    SUPPORT_TYPES,
    support_property_specs,
)

OBJECT_TYPES = ("companies", "deals", "contacts", *SUPPORT_TYPES)
SINGULAR = {"companies": "company", "deals": "deal", "contacts": "contact", **SUPPORT_SINGULAR}
OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", **SUPPORT_TYPE_IDS}
ALIASES = {
    **{name: name for name in OBJECT_TYPES},
    **{v: k for k, v in SINGULAR.items()},
    **{v: k for k, v in OBJECT_TYPE_IDS.items()},
}

MODIFIED_PROPERTY = {
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
    **{t: "hs_lastmodifieddate" for t in SUPPORT_TYPES},
}
# The property a record's creation instant is stamped in.
CREATE_PROPERTY = {
    "companies": "createdate",
    "deals": "createdate",
    "contacts": "createdate",
    **SUPPORT_CREATE_PROPERTY,
}
# Returned when a request names no properties (HubSpot's defaults per object type).
DEFAULT_PROPERTIES = {
    "companies": ["name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"],
    "deals": [
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ],
    "contacts": [
        "email",
        "firstname",
        "lastname",
        "createdate",
        "lastmodifieddate",
        "hs_object_id",
    ],
    **SUPPORT_DEFAULT_PROPERTIES,
}
READ_ONLY = {
    "hs_object_id",
    "hs_lastmodifieddate",
    "lastmodifieddate",
    "hs_merged_object_ids",
    "hs_createdate",
}

# (from, to) -> the unlabeled association type id, and its v3 type name as live portals
# report it. Every link has the unlabeled type; a primary (or labelled) one has it beside.
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[int, str]] = {
    ("deals", "companies"): (341, "deal_to_company_unlabeled"),
    ("companies", "deals"): (342, "company_to_deal_unlabeled"),
    ("contacts", "companies"): (279, "contact_to_company_unlabeled"),
    ("companies", "contacts"): (280, "company_to_contact_unlabeled"),
    ("deals", "contacts"): (3, "deal_to_contact"),
    ("contacts", "deals"): (4, "contact_to_deal"),
    **SUPPORT_ASSOCIATION_TYPES,
}
# The primary company of a deal or contact; v3 names it without a suffix.
PRIMARY_TYPES: dict[tuple[str, str], tuple[int, str]] = {
    ("deals", "companies"): (5, "deal_to_company"),
    ("companies", "deals"): (6, "company_to_deal"),
    ("contacts", "companies"): (1, "contact_to_company"),
    ("companies", "contacts"): (2, "company_to_contact"),
    **SUPPORT_PRIMARY_TYPES,
}
TYPE_NAMES = {tid: name for tid, name in [*ASSOCIATION_TYPES.values(), *PRIMARY_TYPES.values()]}
# Each type id and the one HubSpot stores on the other side of the same link.
INVERSE_TYPES = {
    **{
        ASSOCIATION_TYPES[pair][0]: ASSOCIATION_TYPES[(pair[1], pair[0])][0]
        for pair in ASSOCIATION_TYPES
    },
    **{PRIMARY_TYPES[pair][0]: PRIMARY_TYPES[(pair[1], pair[0])][0] for pair in PRIMARY_TYPES},
}


def _prop(
    name: str,
    label: str,
    type_: str = "string",
    field_type: str = "text",
    *,
    calculated: bool = False,
    unique: bool = False,
    options: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "groupName": "information",
        "description": "",
        "options": options or [],
        "calculated": calculated,
        "hasUniqueValue": unique,
        "hubspotDefined": True,
        "hidden": False,
        "formField": False,
        "displayOrder": -1,
        "archived": False,
        "modificationMetadata": {
            "archivable": not calculated,
            "readOnlyDefinition": True,
            "readOnlyValue": calculated or name in READ_ONLY,
        },
    }


def _common(modified: str, created: str = "createdate") -> list[dict[str, Any]]:
    return [
        _prop("hs_object_id", "Record ID", "number", "number", unique=True),
        _prop(created, "Create Date", "datetime", "date"),
        _prop(modified, "Last Modified Date", "datetime", "date"),
        _prop("hubspot_owner_id", "Owner", "enumeration", "select"),
        _prop("hs_merged_object_ids", "Merged Record IDs", "enumeration", "checkbox"),
    ]


def default_properties() -> dict[str, dict[str, dict[str, Any]]]:
    """Built-in property definitions per object type, keyed by property name."""
    industry = [
        {"label": label, "value": value, "displayOrder": i, "hidden": False}
        for i, (label, value) in enumerate(
            [
                ("Computer Software", "COMPUTER_SOFTWARE"),
                ("Financial Services", "FINANCIAL_SERVICES"),
            ]
        )
    ]
    lists = {
        "companies": [
            *_common("hs_lastmodifieddate"),
            _prop("name", "Company name"),
            _prop("domain", "Company domain name"),
            # Other domains of the company, semicolon-separated ("acme.io;acme.co.uk").
            _prop("hs_additional_domains", "Additional Domains"),
            _prop("industry", "Industry", "enumeration", "select", options=industry),
            _prop("annualrevenue", "Annual Revenue", "number", "number"),
            _prop("num_associated_deals", "Associated Deals", "number", "number", calculated=True),
        ],
        "deals": [
            *_common("hs_lastmodifieddate"),
            _prop("dealname", "Deal Name"),
            _prop("amount", "Amount", "number", "number"),
            _prop("closedate", "Close Date", "datetime", "date"),
            _prop("pipeline", "Pipeline", "enumeration", "select"),
            _prop("dealstage", "Deal Stage", "enumeration", "radio"),
            _prop("hs_is_closed", "Is Closed", "bool", "booleancheckbox", calculated=True),
        ],
        "contacts": [
            *_common("lastmodifieddate"),
            _prop("email", "Email", unique=True),
            _prop("firstname", "First Name"),
            _prop("lastname", "Last Name"),
            _prop("jobtitle", "Job Title"),
        ],
    }
    for object_type, specs in support_property_specs().items():
        lists[object_type] = [
            *_common("hs_lastmodifieddate", CREATE_PROPERTY[object_type]),
            *(
                _prop(name, label, type_, field, options=options, calculated=calculated)
                for name, label, type_, field, options, calculated in specs
            ),
        ]
    return {ot: {p["name"]: p for p in props} for ot, props in lists.items()}


# HubSpot's other standard objects, by the names v2 and v3 accept. The sandbox holds no
# records of them, but lists their properties, as readers ask for every object's.
OTHER_STANDARD_OBJECTS = frozenset(
    {
        "calls",
        "communications",
        "deal_split",
        "emails",
        "feedback_submissions",
        "form",
        "goal_targets",
        "leads",
        "line_item",
        "line_items",
        "meetings",
        "notes",
        "postal_mail",
        "product",
        "products",
        "quote",
        "quotes",
        "tasks",
        "ticket",
        "tickets",
    }
)


def other_object_properties() -> list[dict[str, Any]]:
    """The properties every HubSpot object has."""
    return [
        _prop("hs_object_id", "Record ID", "number", "number", unique=True),
        _prop("hs_createdate", "Create Date", "datetime", "date"),
        _prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
    ]


def default_pipelines(now_iso: str) -> list[dict[str, Any]]:
    stages = [
        ("appointmentscheduled", "Appointment Scheduled", "false", "0.2"),
        ("qualifiedtobuy", "Qualified To Buy", "false", "0.4"),
        ("contractsent", "Contract Sent", "false", "0.8"),
        ("closedwon", "Closed Won", "true", "1.0"),
        ("closedlost", "Closed Lost", "true", "0.0"),
    ]
    return [
        {
            "id": "default",
            "label": "Sales Pipeline",
            "displayOrder": 0,
            "createdAt": now_iso,
            "updatedAt": now_iso,
            "archived": False,
            "stages": [
                {
                    "id": sid,
                    "label": label,
                    "displayOrder": i,
                    "metadata": {"isClosed": closed, "probability": prob},
                    "createdAt": now_iso,
                    "updatedAt": now_iso,
                    "archived": False,
                    "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                }
                for i, (sid, label, closed, prob) in enumerate(stages)
            ],
        }
    ]


# HubSpot's own property groups per object type; "information" holds the defaults above.
DEFAULT_GROUPS = {
    "companies": ["companyinformation", "information"],
    "deals": ["dealinformation", "information"],
    "contacts": ["contactinformation", "information"],
    **{t: [f"{SUPPORT_SINGULAR[t]}information", "information"] for t in SUPPORT_TYPES},
}


def default_groups() -> dict[str, dict[str, dict[str, Any]]]:
    return {
        ot: {
            name: {
                "name": name,
                "label": name.replace("information", " information").strip().capitalize(),
                "displayOrder": i,
                "archived": False,
            }
            for i, name in enumerate(names)
        }
        for ot, names in DEFAULT_GROUPS.items()
    }
