"""Every request and response example of the calling-scheduler document (seeds/003,
copied verbatim in ``document.md``), as data, for the ``dialer`` profile's conformance
suite (mounted at ``/compat/dialer/api/v1``; the paths here are relative to the
document's base URL ``/api/v1``).

The document shows no status codes for its successes; ``status`` is what its examples
imply for a FastAPI service (200 everywhere, as FastAPI answers by default) and ``None``
where the profile must choose. Where the document contradicts itself the data keeps
its words and ``note`` says so (for instance, the create response shows another agent
and phone than the request it follows). Ids are the document's: a suite replaces them
with rows it made first (``DOCUMENT_IDS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BASE_URL = "http://localhost:8080/api/v1"
AUTH_HEADER = {"Authorization": "Bearer $API_TOKEN"}

# The ids the document uses, by role.
AGENT_ID = "fe3e7b28-a9d5-4967-a78c-1e18bad870c4"  # in most examples
AGENT_ID_CREATE = "53420311-13b0-44c5-93df-30f38985e7a0"  # in the create examples
LEAD_ID = "123e4567-e89b-12d3-a456-426614174000"
LEAD_ID_GET = "dbc86e86-1d91-477f-aa2f-a1abd387eb6b"  # get one, schedule
CALL_ID = "789e4567-e89b-12d3-a456-426614174000"
DOCUMENT_IDS = {"agent": (AGENT_ID, AGENT_ID_CREATE), "lead": (LEAD_ID, LEAD_ID_GET),
                "call": (CALL_ID,)}

LEAD_STATUSES = ("new", "in_progress", "done")
# "Lead Disposition Values", and the update body's list (the same four).
DISPOSITIONS = ("completed", "no_answer", "not_interested", "hung_up")
HISTORY_OUTCOMES = ("answered", "no_answer", "failed")
PER_PAGE_DEFAULT, PER_PAGE_MAX = 10, 100
PHONE_EXAMPLES = {"US": "+14155552671", "UK": "+442071838750", "India": "+919876543210"}
LEAD_FIELDS = ("id", "agent_id", "first_name", "phone_e164", "status", "custom_fields",
               "schedule_at", "attempts_count", "disposition", "created_at", "updated_at")
CALL_FIELDS = ("id", "lead_id", "agent_id", "lead_name", "lead_phone", "agent_name", "status",
               "outcome", "duration_seconds", "transcript_url", "summary", "created_at")
METRICS_FIELDS = ("total_calls", "answered_calls", "no_answer_calls", "failed_calls",
                  "pickup_rate", "average_attempts_per_lead", "active_agents")


@dataclass(frozen=True)
class Example:
    name: str
    section: str  # the document's heading
    method: str
    path: str  # relative to /api/v1, query string as written
    body: dict[str, Any] | None = None
    files: dict[str, str] | None = None  # multipart fields: name -> file content
    status: int | None = 200
    response: Any = None  # the document's response body (None: it shows none)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# -- bodies and responses shown once and used by several examples ------------------
CREATE_LEAD_FULL = {
    "agent_id": AGENT_ID_CREATE,
    "first_name": "John",
    "phone_e164": "+14155552670",
    "custom_fields": {"company": "Acme Corp", "position": "Manager",
                      "notes": "Interested in premium plan"},
    "schedule_at": "2025-06-24T14:00:00Z",
}
CREATE_LEAD_MINIMAL = {"agent_id": AGENT_ID_CREATE, "first_name": "Jane",
                       "phone_e164": "+14155552672"}
# The "Request Body" blocks: schemas written as JSON, placeholders for values.
CREATE_LEAD_SCHEMA = {
    "agent_id": "string (UUID)",
    "first_name": "string",
    "phone_e164": "string (E.164 format: +1234567890)",
    "custom_fields": {"key": "value"},
    "schedule_at": "ISO 8601 datetime (optional, defaults to now)",
}
UPDATE_LEAD_SCHEMA = {
    "first_name": "string (optional)",
    "phone_e164": "string (optional, E.164 format)",
    "status": "string (optional: new|in_progress|done)",
    "custom_fields": "object (optional)",
    "schedule_at": "ISO 8601 datetime (optional)",
    "disposition": "string (optional: not_interested|hung_up|completed|no_answer)",
}
LEAD_RESPONSE = {
    "id": LEAD_ID,
    "agent_id": AGENT_ID,
    "first_name": "John",
    "phone_e164": "+14155552671",
    "status": "new",
    "custom_fields": {"company": "Acme Corp", "position": "Manager",
                      "notes": "Interested in premium plan"},
    "schedule_at": "2025-06-24T14:00:00Z",
    "attempts_count": 0,
    "disposition": None,
    "created_at": "2025-06-23T10:00:00Z",
    "updated_at": "2025-06-23T10:00:00Z",
}
LEAD_LIST_RESPONSE = {
    "leads": [{**LEAD_RESPONSE, "custom_fields": {}}],
    "total": 25,
    "page": 1,
    "per_page": 10,
}
UPDATE_LEAD_BODY = {
    "first_name": "John Smith",
    "custom_fields": {"company": "Acme Corp", "position": "Senior Manager",
                      "notes": "Very interested, schedule follow-up"},
    "schedule_at": "2025-06-25T10:00:00Z",
}
CSV_FILE = (
    "first_name,phone,company,position,notes,schedule_at\n"
    "John,+14155552671,Acme Corp,Manager,Interested in premium,2025-06-24T14:00:00Z\n"
    "Jane,415-555-2672,TechCo,Director,Follow up next week,\n"
    "Bob,(415) 555-2673,StartupInc,CEO,High priority,\n"
)
CSV_IMPORT_RESPONSE = {
    "success_count": 2,
    "error_count": 1,
    "errors": [{"row": 4, "error": "Invalid phone number format: (415) 555-invalid"}],
    "total_processed": 3,
}
CALL_HISTORY_RESPONSE = {
    "calls": [{
        "id": CALL_ID,
        "lead_id": LEAD_ID,
        "agent_id": AGENT_ID,
        "lead_name": "John",
        "lead_phone": "+14155552671",
        "agent_name": "Sales Agent",
        "status": "completed",
        "outcome": "answered",
        "duration_seconds": 180,
        "transcript_url": "https://example.com/transcript/123",
        "summary": "Customer interested in premium plan, scheduled demo for next week",
        "created_at": "2025-06-23T14:15:00Z",
    }],
    "total": 150,
    "page": 1,
    "per_page": 10,
}
METRICS_RESPONSE = {
    "total_calls": 500,
    "answered_calls": 350,
    "no_answer_calls": 120,
    "failed_calls": 30,
    "pickup_rate": 70.0,
    "average_attempts_per_lead": 1.8,
    "active_agents": 5,
}
SCHEDULED_RESPONSE = {"message": "Lead scheduled successfully"}
DELETED_RESPONSE = {"message": "Lead deleted"}

# -- Error Responses -----------------------------------------------------------------
INVALID_PHONE = {"detail": "Invalid phone number format"}
DUPLICATE_LEAD = {"detail": "Lead with this phone number already exists for this agent"}
LEAD_NOT_FOUND = {"detail": "Lead not found"}
VALIDATION_ERROR = {"detail": [{"loc": ["body", "phone_e164"],
                                "msg": "Phone number must be in E.164 format",
                                "type": "value_error"}]}
ERRORS: dict[str, tuple[int, dict[str, Any]]] = {
    "invalid_phone": (400, INVALID_PHONE),
    "duplicate_lead": (400, DUPLICATE_LEAD),
    "not_found": (404, LEAD_NOT_FOUND),
    "validation": (422, VALIDATION_ERROR),
}

LEADS, GET_LEAD, UPDATE, DELETE = ("1. Create Lead", "3. Get Single Lead", "4. Update Lead",
                                   "5. Delete Lead")
LIST, CSV, SCHEDULE = "2. List Leads", "6. Import Leads from CSV", "7. Schedule Call for Lead"
HISTORY, METRICS = "8. Get Call History", "9. Get Call Metrics"
FLOW = "Example: Complete Lead Creation and Calling Flow"

EXAMPLES: tuple[Example, ...] = (
    Example("create_lead_full", LEADS, "POST", "/leads/", CREATE_LEAD_FULL, status=None,
            response=LEAD_RESPONSE,
            note="The response shown is the section's, for another agent and phone "
                 "(fe3e7b28…, +14155552671) than this request; the status is not shown "
                 "(FastAPI: 200 unless the route says 201)."),
    Example("create_lead_minimal", LEADS, "POST", "/leads/", CREATE_LEAD_MINIMAL, status=None,
            note="schedule_at defaults to now; custom_fields to {}."),
    Example("list_leads", LIST, "GET", "/leads/", response=LEAD_LIST_RESPONSE),
    Example("list_leads_by_agent", LIST, "GET", f"/leads/?agent_id={AGENT_ID}"),
    Example("list_leads_by_status", LIST, "GET", "/leads/?status_filter=new"),
    Example("list_leads_search", LIST, "GET", "/leads/?search=john",
            note="search: by name or phone number."),
    Example("list_leads_page", LIST, "GET", "/leads/?page=2&per_page=20"),
    Example("get_lead", GET_LEAD, "GET", f"/leads/{LEAD_ID_GET}", response=LEAD_RESPONSE,
            note="Response: 'Same as Create Lead response'."),
    Example("update_lead", UPDATE, "PUT", f"/leads/{LEAD_ID}", UPDATE_LEAD_BODY,
            response=None, note="All fields optional; the response is not shown (the lead)."),
    Example("delete_lead", DELETE, "DELETE", f"/leads/{LEAD_ID}", response=DELETED_RESPONSE,
            note="A soft delete."),
    Example("csv_import", CSV, "POST", f"/leads/csv-import?agent_id={AGENT_ID}",
            files={"file": CSV_FILE}, response=CSV_IMPORT_RESPONSE,
            note="The response shown does not match the CSV shown (all three of its phones "
                 "normalise; its error row is another file's: '(415) 555-invalid' on row 4, "
                 "the header being row 1)."),
    Example("schedule_call", SCHEDULE, "POST", "/calls/schedule", {"lead_id": LEAD_ID_GET},
            response=SCHEDULED_RESPONSE),
    Example("call_history", HISTORY, "GET", "/calls/history", response=CALL_HISTORY_RESPONSE),
    Example("call_history_agent_outcome", HISTORY, "GET",
            f"/calls/history?agent_id={AGENT_ID}&outcome=answered"),
    Example("call_history_dates", HISTORY, "GET",
            "/calls/history?start_date=2025-06-01&end_date=2025-06-30"),
    Example("call_metrics", METRICS, "GET", "/calls/metrics", response=METRICS_RESPONSE),
    Example("call_metrics_agent", METRICS, "GET", f"/calls/metrics?agent_id={AGENT_ID}"),
    Example("call_metrics_dates", METRICS, "GET",
            "/calls/metrics?start_date=2025-06-01&end_date=2025-06-30"),
    # The complete flow, step by step ($LEAD_ID: the id step 2 answered).
    Example("flow_1_agents", FLOW, "GET", "/agents/",
            note="Not documented elsewhere: the workspace's voice agents."),
    Example("flow_2_create_lead", FLOW, "POST", "/leads/",
            {"agent_id": AGENT_ID, "first_name": "John", "phone_e164": "+14155552671",
             "custom_fields": {"company": "Acme Corp"}}, status=None,
            extra={"then": "jq -r '.id' -> LEAD_ID"}),
    Example("flow_3_schedule", FLOW, "POST", "/calls/schedule", {"lead_id": "$LEAD_ID"},
            response=SCHEDULED_RESPONSE),
    Example("flow_4_history", FLOW, "GET", "/calls/history?search=John"),
    Example("flow_5_metrics", FLOW, "GET", "/calls/metrics"),
)

# The "Request Body" blocks (schemas, not requests), by section.
SCHEMAS: dict[str, dict[str, Any]] = {LEADS: CREATE_LEAD_SCHEMA, UPDATE: UPDATE_LEAD_SCHEMA}


def example(name: str) -> Example:
    for item in EXAMPLES:
        if item.name == name:
            return item
    raise KeyError(name)
