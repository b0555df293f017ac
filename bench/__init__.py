"""The benchmarks' shared parts. Each benchmark is a script in this folder
(``leads_api.py``, ``export_1m.py``, ``import_1m.py``, ``fields_engine.py``); these
modules are what they reuse:

- ``database``: the PostgreSQL server (``LEADBASE_DATABASE_URL``, ``--database-url`` or the
  embedded one), bench databases and their markers, settings and sizes;
- ``loader``: the synthetic CRM-shaped leads, seeded in SQL (1M leads in about a minute);
- ``server``: the API server process under measurement and signing in to it;
- ``client``: the load generator (scenarios, lean keep-alive HTTP/1.1 connections);
- ``replay``: a scenario's requests replayed in-process as service calls, SQL timed;
- ``report``: printing figures, the cores each process used, result tables with targets;
- ``leads_scenarios``: the leads API's scenarios (``leads_api.py``).
"""
