"""The ``crm`` profile: the 84-endpoint CRM document (002) under ``/compat/crm/v1`` — its
Leads, Opportunities and Activities APIs (Campaigns, Analytics and webhooks: later).

A translation layer over the services (request → service calls → the document's shape);
business rules stay in the services. ``LEADBASE_ROOT_PROFILE=crm`` also serves it at
``/``. ``Authorization: Bearer`` takes a user's access token or an API key, as the
canonical API.

Translation
    - JSON in camelCase. Ids are strings, a prefix and the row's UUID in hex
      (``lead_…``, ``act_…``, ``agent_…`` for users, ``opp_…``): see
      :mod:`leadbase.compat.crm.ids`.
    - Statuses in capitals (``NEW``, ``CONTACTED``, ``QUALIFIED``, ``UNQUALIFIED``,
      ``CONVERTED``, ``LOST``), the canonical ones lowercased. Sources too: ``WEBSITE``
      is stored ``website`` and any source is answered in capitals. Temperatures
      ``HOT``/``WARM``/``COLD``; activity types ``CALL``, ``EMAIL``...
    - A lead: ``{id, firstName, lastName, email, phone, company, jobTitle, source,
      status, score, temperature, notes, tags, assignedToId, lastContactedAt, createdAt,
      updatedAt}`` (a superset of the document's examples); ``GET /leads/{id}`` adds
      ``activities`` (the latest 20) and ``assignedTo`` (``{id, name, email, role,
      active}`` or null).
    - Activities: the document's attributes map to the canonical typed attributes
      (``duration`` in minutes; a call's is kept in seconds), ``dueDate`` ↔ ``due``,
      ``documentUrl`` ↔ a document's ``url``; a task's ``priority: medium`` is
      ``normal``. A meeting's ``scheduledFor``, a task's ``dueDate`` or any
      ``scheduledFor`` plans the activity (``state: SCHEDULED``; an email keeps its own
      ``status``) until ``PUT
      completedAt``; otherwise it is done now (``completedAt`` may date it).

Choices where the document is vague
    - Status codes: 201 for the creating POSTs (leads, activities, ``log-*``), 204 for
      the DELETEs, 202 for ``recalculate-all`` (a job) and for an import still running
      after the wait; 200 otherwise.
    - ``PUT /leads/{id}`` and ``PUT /activities/{id}`` change what is sent (the
      document's examples send two attributes). ``If-Match`` (the ``ETag``) on them
      and on the DELETEs; ``Idempotency-Key`` on the creating POSTs, as the canonical
      API. ``DELETE /leads/{id}`` is a soft delete.
    - ``GET /leads`` (and ``assignment/unassigned``, ``assignment/by-agent/{agentId}``)
      answers ``{data, total, page, limit, totalPages}``, newest first, ``limit`` 20 by
      default (at most 200); filters ``status``, ``minScore``, ``maxScore``, ``source``,
      ``assignedToId``, ``search``. ``total`` is the canonical list's: exact up to
      ``LEADBASE_COUNT_EXACT_LIMIT`` (1,000) matches, beyond it the planner's estimate,
      said so by ``X-Total-Count-Estimated: true`` (a page never counts the whole
      workspace).
    - ``scoring/hot`` and ``scoring/cold`` are JSON arrays (as the document shows), best
      (lowest) first, of at most ``limit`` (100); thresholds 70 and 30 by default.
      ``calculate-score`` and ``update-score`` both recompute the score with the model
      in force and keep it (a score answered and not shown by the lead would disagree
      with it); no scoring model yet: 409. ``recalculate-all`` answers 202 ``{message:
      "Score recalculation started", jobId, status, total}`` — a job, so not the
      document's "completed".
    - Assignment needs a manager (as the canonical API): ``assign {agentId}``,
      ``auto-assign`` (the workspace's rules), ``reassign {fromAgentId, toAgentId}``
      (409 when the lead is not ``fromAgentId``'s), each answering the lead.
    - ``import``: atomic, run at once and awaited up to
      ``LEADBASE_CRM_IMPORT_WAIT_SECONDS`` (30): 200 ``{total, successful, failed,
      errors: [{row, field, code, message}], created, updated, importId}`` (the first
      100 errors; ``failed`` counts invalid rows and rows matching an existing lead,
      which are skipped); beyond the wait 202 ``{message, importId, status, total,
      processed}`` with ``Location`` (``/api/v1/imports/{id}``). A file that cannot be
      read: 400.
    - ``export`` answers XLSX (``format=csv`` too) with the canonical export's columns.
      ``bulk-update {leadIds, updates: {status, assignedToId, tags}}`` → ``{updated,
      failed, errors: [{id, message}]}``: each lead as a single update (``updated``
      counts those already so).
    - Activity lists are JSON arrays with a keyset cursor (:mod:`.activities`); ``GET
      /activities/agent/{agentId}/summary`` adds ``period``, ``startsAt``, ``endsAt``;
      ``completedTasks``/``pendingTasks`` are the agent's tasks (``/api/v1/tasks``).
    - Conversion (``convert``, ``can-convert``, ``qualify``, ``unqualify``):
      :mod:`.conversion`. Opportunities: :mod:`.opportunities` (an opportunity's shape,
      CRUD, stages, closing, probability), :mod:`.opportunity_views` (pipeline view,
      by-stage, stale, forecast), :mod:`.opportunity_activities`. Stages are the deal
      pipeline's codes in capitals; money a JSON number; ``GET /opportunities`` is paged
      as ``GET /leads``, the other opportunity lists are JSON arrays with a keyset cursor
      (``X-Next-Cursor``), as the activity lists. ``log-<type>`` takes ``opportunityId``
      (the document's ``log-proposal``): the activity is on the deal and its lead.
    - Unknown keys in bodies are ignored (``PUT /opportunities/{id}`` refuses ``stage``
      and ``status``: they change through ``move-stage``, ``close-won``...).

Errors and rate limits: :mod:`leadbase.compat.crm.errors`, :mod:`leadbase.compat.crm.limits`.
"""
