"""A HubSpot CRM sandbox: a real HTTP server that behaves as HubSpot does (see
docs/hubspot-facts.md) for the parts Lifecycle uses. It knows nothing of Django models.

    sandbox = Sandbox(tier="professional", clock=ManualClock(), search_delay_ms=2000)
    server = SandboxServer(sandbox, port=8111).start()
    HubSpot(access_token="x", host=server.url)      # or HubSpotClient(base_url=server.url)

CRM API (bearer token checked when `access_token` is set; limits per tier, faults):
    GET/POST      /crm/v3/objects/{type}                    list (limit<=100, after, properties,
                                                            propertiesWithHistory, associations,
                                                            archived) / create (201); links
                                                            inline: 100 per type, then paging
    GET           /crm/v3/objects/{type}/{id}/associations/{to}  the rest of a record's links
                                                            (limit<=500, after), v3 rows
    GET/PATCH/DELETE /crm/v3/objects/{type}/{id}            get (idProperty, archived) / update /
                                                            archive (204)
    POST          /crm/v3/objects/{type}/batch/{read|create|update|upsert|archive}
                                                            100 inputs (50 with history); 207 with
                                                            errors/numErrors on partial failure
    POST          /crm/v3/objects/{type}/search             filters, one sort, limit<=200, 10,000
                                                            cap, index lags by search_delay_ms
    POST          /crm/v3/objects/{type}/merge              survivor may get a new id
    GET/POST      /crm/v3/properties/{type}[/{name}]        list, get, create (hasUniqueValue;
                                                            groupName must be a group of the type)
    PATCH         /crm/v3/properties/{type}/{name}          label, description, groupName, options
                                                            (replaced whole), displayOrder, hidden;
                                                            HubSpot's own keep their type and name
    GET/POST      /crm/v3/properties/{type}/groups          list / create (201; 409 if name taken),
                                                            starts with HubSpot's default groups
    GET           /crm/v3/pipelines/{deals|tickets}         stages with string metadata
                                                            (isClosed/probability; ticketState)
    GET           /crm/v3/owners/                           paged owners
    PUT           /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}
    GET           /crm/v4/objects/{from}/{id}/associations/{to}
    POST          /crm/v4/associations/{from}/{to}/batch/{create|read|archive}
    GET           /crm/v3/schemas                           custom object schemas (none)
    GET           /properties/v2/{object}/properties        legacy v2 property list (readers)
Types are companies, deals, contacts (also by singular name or 0-2/0-3/0-1), tickets (0-5),
feedback_submissions (0-19, read-only: API writes answer 403), and the engagements notes,
calls, meetings, emails, tasks (support_schema.py). Tickets fire legacy `ticket.*`
webhooks; the others generic `object.*` ones with `objectTypeId` (subscriptions take an
`objectName`, e.g. "note").

Strict by default (docs/hubspot-contract.md): writes HubSpot refuses are refused with its
error bodies (wrong types, unknown options or properties, stages off the pipeline, dates
not at midnight UTC, missing required fields, options without `hidden`); values are
stored normalised (numbers, ISO datetimes, dates). `Sandbox(strict=False)` keeps bad
values as given, as seeding always does. A primary company link keeps the unlabeled one
beside it. Set `sandbox.exchanges = []` to record every CRM exchange.

Acting as HubSpot and its users (no auth, no limits; see control_api.py):
    GET  /_sandbox/state                 dump (persist.dump format)
    POST /_sandbox/seed                  records, owners, properties, associations by key
    PUT  /_sandbox/tier                  {"tier": "off|free|starter|professional|enterprise"}
    PUT  /_sandbox/faults                error_rate, error_status, slow_rate, slow_seconds,
                                         drop_rate, locked_upsert_rate, lock_after_upsert_s,
                                         queued ([502, "drop", "slow:2", "pass"])
    PUT  /_sandbox/webhooks              targetUrl, clientSecret, subscriptions, retryDelays,
                                         duplicateRate, reorder, maxBatch, maxInFlight,
                                         timeoutSeconds, timestampOffsetSeconds
    POST /_sandbox/owners                add an owner
    GET/DELETE /_sandbox/calls           CRM requests per endpoint and status / reset
    POST /_sandbox/daily-usage           {"count": n} spend part of today's limit
    POST /_sandbox/clock/advance         {"seconds": s} (ManualClock only)
    POST /_sandbox/objects/{type}        create as a user ("userId"), fires webhooks
    PATCH/DELETE /_sandbox/objects/{type}/{id}, POST .../{id}/restore
    POST /_sandbox/objects/{type}/merge  {"primaryObjectId", "objectIdToMerge", "newId"}
    POST /_sandbox/objects/{type}/bulk-edit  {"ids", "properties"}: one modified instant
"""

from .app import Sandbox
from .clock import ManualClock, SystemClock
from .persist import dump, load, seed
from .server import SandboxServer
from .webhooks import WebhookSettings, signature_v1, signature_v3

__all__ = [
    "ManualClock",
    "Sandbox",
    "SandboxServer",
    "SystemClock",
    "WebhookSettings",
    "dump",
    "load",
    "seed",
    "signature_v1",
    "signature_v3",
]
