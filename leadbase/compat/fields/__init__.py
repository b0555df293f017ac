"""The ``fields`` profile: the "lead fields" document (004) under ``/compat/fields``.

A translation layer over the services (request → service call → response); business
rules stay in the services. ``LEADBASE_ROOT_PROFILE=fields`` also serves it at ``/``.

Translation
    Every id in and out is the row's integer ``number``. A "campaign" is a lead list
    (``campaign_id``, ``related_campaign_id``), ``lead_field_section_id`` a field
    section, ``nomenclator_id`` a code list; ``field_type_code`` is the field's type,
    ``field_subtype_code`` its subtype, ``field_template_code`` its template, ``order``
    its position. Nomenclator items are ``{id, nomenclator_id, code, name, order,
    active}`` (``name`` is the label shown, ``code`` the value a lead stores); validation
    rules are ``{id, lead_field_id, rule_type_code, value, message, order, active}``.
    A field's ``code`` (the key of its value in a lead's ``fields``) is answered
    always and may be sent (derived from the name otherwise).

Choices where the document is vague
    - Status codes: FastAPI's defaults, as the document shows none: 200 for every
      success, POST included (no route declares 201).
    - ``GET /lead_fields`` answers the compact form (the attributes of the document's
      table plus ``id``, ``code`` and ``active``); ``detailed=true`` adds
      ``field_template_code``, ``validation_rules``, ``created_at`` and
      ``updated_at``. A single field (GET by id, POST, PUT, restore) always answers the
      detailed form, so option A shows the rules its template created.
    - Lists are JSON arrays, windowed FastAPI-style with ``?skip=`` (0) and ``?limit=``
      (100, at most 200).
    - POST ``/lead_fields``: ``campaign_id``, ``order`` and ``lead_field_section_id`` are
      required (the table marks them mandatory and every example sends them);
      ``name`` and ``field_type_code`` too unless ``field_template_code`` is given.
      Option B.2 sends no ``name``: a field over a nomenclator is named after the
      nomenclator when ``name`` is left out.
    - PUT ``/lead_fields/{id}`` requires every mandatory attribute (missing → FastAPI's
      422) and replaces the configuration: optional attributes not sent return to
      their defaults. A field cannot move to another campaign (its values live in that
      campaign's leads): a different ``campaign_id`` is a 422
      ``FIELD_MOVE_UNSUPPORTED``.
    - DELETE ``/lead_fields/{id}`` answers ``{"id", "result"}``: ``"deleted"`` (erased
      with its rules) or ``"deactivated"`` (soft: the campaign has leads). Other DELETEs
      answer the same shape (a nomenclator item in use is ``"deactivated"``).
    - The other resources (``/validation_rules``, ``/lead_field_sections``,
      ``/nomenclators`` with ``/items``, ``/campaigns``) follow the same style. Their
      PUTs require the attributes their POST requires; other attributes not sent keep
      their value. Rules do not move (422 ``RULE_MOVE_UNSUPPORTED``).
    - Sections (``lead_field_section_id``) are the workspace's, not a campaign's: the
      document's PUT example puts a field of campaign 2 in section 1, the section its
      POST examples use for campaign 1. A field of any campaign may sit in any section,
      each field keeping its own ``order``. A section is ``{id, name, order}``;
      ``GET /lead_field_sections?campaign_id=`` keeps the sections holding a field of
      that campaign.
    - Writes need the ``admin`` role (as the canonical schema API); reads any member.
    - Unknown keys in bodies are ignored, as a FastAPI application with plain models
      does.

Errors (``{"detail": ...}``, as a FastAPI service)
    - Request validation: FastAPI's own 422 ``{"detail": [{"type", "loc", "msg",
      "input"}]}``, also for the limits of the canonical models (``loc`` in the
      profile's names) and for attributes the document makes mandatory.
    - Service errors: ``{"detail": "<message>", "code": "<STABLE_CODE>"}`` with the
      service's status (401, 403, 404, 409, 422, 429). ``code`` is an extra key,
      harmless to clients that read ``detail``.
    - An id in the URL (path or query) that names nothing in the caller's workspace
      (another workspace's included) is a 404; an id in a body that names nothing is a
      422 naming the attribute (``"campaign_id: campaign 7 not found"``).
    - Unknown routes: FastAPI's ``{"detail": "Not Found"}``.
"""
