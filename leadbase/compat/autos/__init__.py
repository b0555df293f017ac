"""The ``autos`` profile: the vehicle-leads document (000) under ``/compat/autos/v1``.

A translation layer over the services (request → service calls → the document's shape);
business rules stay in the services. ``LEADBASE_ROOT_PROFILE=autos`` also serves it at
``/``. JSON in camelCase, ids are the rows' UUIDs.

Translation
    The document's *lead* is a task (``leadbase.tasks``) plus the person it is about (a
    lead of ``leadbase.leads``): ``action`` is the task's title, ``tag`` and ``note`` its
    own, ``order`` its rank (``position``), ``carId`` its listing; ``targetName`` is the
    person's name (first and last name joined by a space) and ``targetInfo`` the contact
    the task was filed with, answered exactly as it was sent. The *car* is a listing of
    kind ``vehicle``: ``make``, ``model``, ``overviewYear`` (the vehicle's ``year``) and
    ``location`` are its attributes.
    Statuses: ``NEW`` = open, ``COMPLETED`` = completed, ``NOT_NEEDED`` = not_needed. A
    task cancelled through the canonical API answers ``NOT_NEEDED`` (the document: "no
    longer relevant or was cancelled"), and ``status=NOT_NEEDED`` finds both; writing
    ``NOT_NEEDED`` sets not_needed.

The person (``targetInfo``, ``targetName``)
    ``targetInfo`` must be a phone number or an email address: the lead is found by it,
    normalised (``leads.contacts.lead_for_contact``: E.164 with the workspace's region,
    emails lowercased), or created, so tasks about ``+212-600-123456`` and
    ``+212600123456`` share one lead. Any other text is a 400 ``VALIDATION_ERROR`` on
    ``targetInfo`` (a contact that names nobody could not be deduplicated). A new lead
    is named by ``targetName`` (split at its first space into first and last name); a
    lead found keeps its name, and the task answers it as ``targetName``. ``PATCH
    targetName`` renames the person (every task about them shows the new name); ``PATCH
    targetInfo`` moves the task to the lead of that contact (found or created).
    A contact that belongs to another agent's lead is a 403 ``UNAUTHORIZED_LEAD_ACCESS``
    for an agent: no second lead is made for a person someone else works.
    Deleting a lead (a task) leaves the person: their other tasks and history stay.

Choices where the document is vague
    - Status codes: ``POST`` answers 201 (a NestJS-style API's default), everything else
      200. ``DELETE /leads/{id}`` erases the task for good (the document: "permanently").
    - ``GET /leads/{id}``, ``POST`` and both ``PATCH`` answer the lead without ``car``
      (as the document's single-lead examples); lists embed ``car`` ``{id, make, model,
      overviewYear, location}``, null when the task has no car or its car was deleted.
      ``PATCH /leads/{id}`` answers the whole lead: a superset of the document's example
      (``id``, the fields sent, ``updatedAt``).
    - ``order``: an integer; the default is 0 (ties keep the creation order). A task the
      canonical API placed between two others has a fractional rank: ``order`` is its
      floor, and lists still sort by the exact rank. ``PATCH /leads/car/{carId}/reorder``
      sets each listed lead's ``order`` (the leads not listed keep theirs); every id must
      be a lead of that car (404 ``LEAD_NOT_FOUND`` otherwise, nothing changed).
    - Lists are JSON arrays bounded by ``?limit=`` (default 100, at most 200) and
      ``?offset=``; the total matching rows is in ``X-Total-Count``: exact up to
      ``LEADBASE_COUNT_EXACT_LIMIT`` (1,000) rows, as the canonical lists; beyond, a lower
      bound (1,001) or the tasks service's estimate, with ``X-Total-Count-Estimated:
      true``. ``search`` matches any part of ``action``,
      ``targetName`` or ``tag`` (also of the person's email, phone or company: the
      canonical task search), case and accents ignored. ``action`` and ``targetName``
      filter by any part (case ignored), ``tag`` by equality. ``sortBy=targetName``
      sorts by the person's name; ``status`` by the canonical status (completed,
      not_needed, open); ties by id.
    - ``GET /leads/status/{status}`` takes the same filters, sorts and bounds.
    - Unknown keys in bodies are ignored. ``targetInfo`` is kept exactly as sent; the
      other texts lose surrounding whitespace (the canonical models trim), and an empty
      ``tag`` or ``note`` is null. A blank ``action``, ``targetName`` or ``targetInfo`` is
      a ``VALIDATION_ERROR``, as is a null one in a PATCH; ``tag`` and ``note`` may be
      cleared with null. ``PATCH`` with nothing to change answers the lead as it is.
    - Roles are the canonical ones: viewers read, agents file and work leads about their
      own people, managers and above everything; cars (the inventory) are written by
      managers and above (403 ``ROLE_REQUIRED``).
    - ``Authorization: Bearer`` takes an API key as well as a user's access token (an
      API key acts with its role and scopes: a ``read`` key cannot write, 403
      ``INSUFFICIENT_SCOPE``). ``Idempotency-Key`` on the POSTs, as the canonical API.
      ``ETag`` on single reads and ``If-Match`` on PATCH and DELETE (412), likewise.

``/cars`` (the vehicles API the document links to, in the same style)
    ``GET /cars`` (newest first; ``search`` over title, reference, make and model,
    ``status``, ``make``; bounded like the leads), ``GET /cars/{id}``, ``POST /cars``
    (201; ``make``, ``model`` and ``overviewYear`` required; ``title`` defaults to
    "<year> <make> <model>"), ``PATCH /cars/{id}``, ``DELETE /cars/{id}`` →
    ``{"success": true, "message": "Car deleted successfully"}`` (the listing is
    soft-deleted: its leads keep their ``carId``, their ``car`` is null). A car is
    ``{id, make, model, overviewYear, location, trim, mileage, vin, condition, price,
    currency, status, title, reference, description, createdAt, updatedAt}``; ``status``
    AVAILABLE / RESERVED / SOLD / ARCHIVED; ``price`` a JSON number and needs its
    ``currency``; the VIN is checked (its check digit for North American VINs).

Errors: see :mod:`leadbase.compat.autos.errors`.
"""
