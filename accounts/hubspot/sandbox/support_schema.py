"""Service Hub and activity objects as a fresh HubSpot portal holds them: tickets (with
the default support pipeline), feedback submissions (survey responses, read-only in the
API) and the engagements: notes, calls, meetings, emails, tasks.

Facts (HubSpot's object and association docs, the generic webhooks changelog):
- object type ids: tickets 0-5, feedback_submissions 0-19, tasks 0-27, notes 0-46,
  meetings 0-47, calls 0-48, emails 0-49;
- tickets and the engagements carry `hs_lastmodifieddate`; tickets are created with
  `createdate`, feedback submissions and engagements with `hs_createdate`; a
  ticket's stage is `hs_pipeline_stage` in pipeline `hs_pipeline`, and its
  pipelines (/crm/v3/pipelines/tickets) mark stages `metadata.ticketState` OPEN or
  CLOSED; a ticket moved into a closed stage gets `closed_date`;
- feedback submissions have only a read scope (`crm.objects.feedback_submissions.read`):
  writes are refused; survey answers reach the portal from HubSpot's own surveys
  (here: the /_sandbox controls and seeding);
- webhooks: tickets keep the legacy `ticket.*` subscription types; the other objects
  are only in the generic `object.*` ones, whose events carry `objectTypeId`.
"""

from __future__ import annotations

from typing import Any

SUPPORT_TYPES = (
    "tickets",
    "feedback_submissions",
    "notes",
    "calls",
    "meetings",
    "emails",
    "tasks",
)
ENGAGEMENT_TYPES = ("notes", "calls", "meetings", "emails", "tasks")
SUPPORT_SINGULAR = {
    "tickets": "ticket",
    "feedback_submissions": "feedback_submission",
    "notes": "note",
    "calls": "call",
    "meetings": "meeting",
    "emails": "email",
    "tasks": "task",
}
SUPPORT_TYPE_IDS = {
    "tickets": "0-5",
    "feedback_submissions": "0-19",
    "tasks": "0-27",
    "notes": "0-46",
    "meetings": "0-47",
    "calls": "0-48",
    "emails": "0-49",
}
# Legacy webhook subscription names; the rest fire only `object.*` with objectTypeId.
LEGACY_WEBHOOK_TYPES = frozenset({"tickets"})
READ_ONLY_TYPES = frozenset({"feedback_submissions"})
SUPPORT_CREATE_PROPERTY = {
    t: "createdate" if t == "tickets" else "hs_createdate" for t in SUPPORT_TYPES
}

# (from, to) -> (unlabeled type id, v3 name), both directions.
SUPPORT_ASSOCIATION_TYPES: dict[tuple[str, str], tuple[int, str]] = {
    ("tickets", "companies"): (339, "ticket_to_company"),
    ("companies", "tickets"): (340, "company_to_ticket"),
    ("tickets", "contacts"): (16, "ticket_to_contact"),
    ("contacts", "tickets"): (15, "contact_to_ticket"),
    ("feedback_submissions", "contacts"): (98, "feedback_submission_to_contact"),
    ("contacts", "feedback_submissions"): (97, "contact_to_feedback_submission"),
    ("notes", "companies"): (190, "note_to_company"),
    ("companies", "notes"): (189, "company_to_note"),
    ("notes", "contacts"): (202, "note_to_contact"),
    ("contacts", "notes"): (201, "contact_to_note"),
    ("calls", "companies"): (182, "call_to_company"),
    ("companies", "calls"): (181, "company_to_call"),
    ("calls", "contacts"): (194, "call_to_contact"),
    ("contacts", "calls"): (193, "contact_to_call"),
    ("emails", "companies"): (186, "email_to_company"),
    ("companies", "emails"): (185, "company_to_email"),
    ("emails", "contacts"): (198, "email_to_contact"),
    ("contacts", "emails"): (197, "contact_to_email"),
    ("meetings", "companies"): (188, "meeting_to_company"),
    ("companies", "meetings"): (187, "company_to_meeting"),
    ("meetings", "contacts"): (200, "meeting_to_contact"),
    ("contacts", "meetings"): (199, "contact_to_meeting"),
    ("tasks", "companies"): (192, "task_to_company"),
    ("companies", "tasks"): (191, "company_to_task"),
    ("tasks", "contacts"): (204, "task_to_contact"),
    ("contacts", "tasks"): (203, "contact_to_task"),
}
# A ticket's primary company (v3 names it without "unlabeled" as for deals).
SUPPORT_PRIMARY_TYPES: dict[tuple[str, str], tuple[int, str]] = {
    ("tickets", "companies"): (26, "ticket_to_company_primary"),
    ("companies", "tickets"): (25, "company_to_ticket_primary"),
}


def _options(*values: str) -> list[dict[str, Any]]:
    return [
        {"label": v.replace("_", " ").title(), "value": v, "displayOrder": i, "hidden": False}
        for i, v in enumerate(values)
    ]


def support_property_specs() -> dict[str, list[tuple[Any, ...]]]:
    """(name, label, type, fieldType, options, calculated) per object type, beside the
    properties every object has (id, create and modified dates, owner)."""
    dt = ("datetime", "date")
    return {
        "tickets": [
            ("subject", "Ticket name", "string", "text", None, False),
            ("content", "Ticket description", "string", "textarea", None, False),
            ("hs_pipeline", "Pipeline", "enumeration", "select", None, False),
            ("hs_pipeline_stage", "Ticket status", "enumeration", "select", None, False),
            (
                "hs_ticket_priority",
                "Priority",
                "enumeration",
                "select",
                _options("LOW", "MEDIUM", "HIGH", "URGENT"),
                False,
            ),
            (
                "hs_ticket_category",
                "Category",
                "enumeration",
                "checkbox",
                _options("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"),
                False,
            ),
            (
                "source_type",
                "Source",
                "enumeration",
                "select",
                _options("EMAIL", "CHAT", "PHONE", "FORM"),
                False,
            ),
            ("closed_date", "Close date", *dt, None, False),
            ("time_to_close", "Time to close", "number", "number", None, True),
        ],
        "feedback_submissions": [
            (
                "hs_survey_type",
                "Survey type",
                "enumeration",
                "select",
                _options("NPS", "CSAT", "CES", "CUSTOM"),
                False,
            ),
            ("hs_survey_name", "Survey name", "string", "text", None, False),
            ("hs_survey_id", "Survey id", "string", "text", None, False),
            (
                "hs_survey_channel",
                "Survey channel",
                "enumeration",
                "select",
                _options("EMAIL", "WEB", "LINK", "CHAT"),
                False,
            ),
            ("hs_value", "Response value", "number", "number", None, False),
            (
                "hs_response_group",
                "Response group",
                "enumeration",
                "select",
                _options("PROMOTER", "PASSIVE", "DETRACTOR"),
                False,
            ),
            (
                "hs_sentiment",
                "Sentiment",
                "enumeration",
                "select",
                _options("POSITIVE", "NEUTRAL", "NEGATIVE"),
                False,
            ),
            ("hs_content", "Response", "string", "textarea", None, False),
            ("hs_submission_timestamp", "Submitted at", *dt, None, False),
        ],
        "notes": [
            ("hs_timestamp", "Activity date", *dt, None, False),
            ("hs_note_body", "Note body", "string", "html", None, False),
        ],
        "calls": [
            ("hs_timestamp", "Activity date", *dt, None, False),
            ("hs_call_title", "Call title", "string", "text", None, False),
            ("hs_call_body", "Call notes", "string", "html", None, False),
            (
                "hs_call_direction",
                "Call direction",
                "enumeration",
                "select",
                _options("INBOUND", "OUTBOUND"),
                False,
            ),
            ("hs_call_duration", "Call duration (ms)", "number", "number", None, False),
            (
                "hs_call_status",
                "Call status",
                "enumeration",
                "select",
                _options(
                    "BUSY",
                    "CALLING_CRM_USER",
                    "CANCELED",
                    "COMPLETED",
                    "CONNECTING",
                    "FAILED",
                    "IN_PROGRESS",
                    "NO_ANSWER",
                    "QUEUED",
                    "RINGING",
                ),
                False,
            ),
        ],
        "meetings": [
            ("hs_timestamp", "Activity date", *dt, None, False),
            ("hs_meeting_title", "Meeting name", "string", "text", None, False),
            ("hs_meeting_body", "Meeting description", "string", "html", None, False),
            ("hs_meeting_start_time", "Start time", *dt, None, False),
            ("hs_meeting_end_time", "End time", *dt, None, False),
            (
                "hs_meeting_outcome",
                "Meeting outcome",
                "enumeration",
                "select",
                _options("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
                False,
            ),
        ],
        "emails": [
            ("hs_timestamp", "Activity date", *dt, None, False),
            ("hs_email_subject", "Email subject", "string", "text", None, False),
            ("hs_email_text", "Email body", "string", "textarea", None, False),
            (
                "hs_email_direction",
                "Email direction",
                "enumeration",
                "select",
                _options("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
                False,
            ),
            (
                "hs_email_status",
                "Email send status",
                "enumeration",
                "select",
                _options("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"),
                False,
            ),
        ],
        "tasks": [
            ("hs_timestamp", "Due date", *dt, None, False),
            ("hs_task_subject", "Task title", "string", "text", None, False),
            ("hs_task_body", "Task notes", "string", "html", None, False),
            (
                "hs_task_status",
                "Task status",
                "enumeration",
                "select",
                _options("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
                False,
            ),
            (
                "hs_task_priority",
                "Priority",
                "enumeration",
                "select",
                _options("NONE", "LOW", "MEDIUM", "HIGH"),
                False,
            ),
            (
                "hs_task_type",
                "Task type",
                "enumeration",
                "select",
                _options("EMAIL", "CALL", "TODO"),
                False,
            ),
        ],
    }


# Returned when a request names no properties.
SUPPORT_DEFAULT_PROPERTIES: dict[str, list[str]] = {
    "tickets": [
        "content",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_category",
        "hs_ticket_priority",
        "subject",
    ],
    **{
        t: ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]
        for t in SUPPORT_TYPES
        if t != "tickets"
    },
}


def default_ticket_pipelines(now_iso: str) -> list[dict[str, Any]]:
    """HubSpot's default support pipeline ("0") and its four stages."""
    stages = [
        ("1", "New", "OPEN"),
        ("2", "Waiting on contact", "OPEN"),
        ("3", "Waiting on us", "OPEN"),
        ("4", "Closed", "CLOSED"),
    ]
    return [
        {
            "id": "0",
            "label": "Support Pipeline",
            "displayOrder": 0,
            "createdAt": now_iso,
            "updatedAt": now_iso,
            "archived": False,
            "stages": [
                {
                    "id": sid,
                    "label": label,
                    "displayOrder": i,
                    "metadata": {"ticketState": state},
                    "createdAt": now_iso,
                    "updatedAt": now_iso,
                    "archived": False,
                    "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                }
                for i, (sid, label, state) in enumerate(stages)
            ],
        }
    ]


def ticket_stage_closed(pipelines: list[dict[str, Any]], pipeline: str, stage: str) -> bool | None:
    """Whether a ticket stage is closed; None when the stage is not in the pipeline."""
    found = next((p for p in pipelines if p["id"] == (pipeline or "0")), None)
    if found is None:
        return None
    for s in found["stages"]:
        if s["id"] == stage:
            return str((s.get("metadata") or {}).get("ticketState", "")).upper() == "CLOSED"
    return None


def ticket_stage_problems(
    pipelines: list[dict[str, Any]], clean: dict[str, str], current: dict[str, str] | None
) -> list[tuple[str, str, str, str]]:
    """A ticket needs a stage of its pipeline (hs_pipeline_stage is required on create;
    the pipeline defaults to "0", the support pipeline). `current`: the ticket's
    properties on update, None on create."""
    if current is not None and not {"hs_pipeline", "hs_pipeline_stage"} & set(clean):
        return []
    current = current or {}
    pipeline = clean.get("hs_pipeline", current.get("hs_pipeline", "")) or "0"
    stage = clean.get("hs_pipeline_stage", current.get("hs_pipeline_stage", ""))
    if not stage:
        return [("REQUIRED_FIELD", "hs_pipeline_stage", "hs_pipeline_stage is required", "")]
    if ticket_stage_closed(pipelines, pipeline, stage) is None:
        why = f"{stage} is not a valid ticket stage of pipeline {pipeline}"
        return [("INVALID_OPTION", "hs_pipeline_stage", why, stage)]
    return []


def ticket_closed_date(
    pipelines: list[dict[str, Any]], current: dict[str, str], changed: dict[str, str], now: str
) -> None:
    """A ticket moved into a closed stage gets closed_date (unless one is given); one
    moved back into an open stage loses it. Adds to `changed` in place."""
    if "hs_pipeline_stage" not in changed or "closed_date" in changed:
        return
    pipeline = changed.get("hs_pipeline", current.get("hs_pipeline", "")) or "0"
    closed = ticket_stage_closed(pipelines, pipeline, changed["hs_pipeline_stage"])
    if closed and not current.get("closed_date"):
        changed["closed_date"] = now
    elif closed is False and current.get("closed_date"):
        changed["closed_date"] = ""
