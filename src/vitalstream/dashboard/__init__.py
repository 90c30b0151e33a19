"""The web dashboard: live patient board, patient history, reports, pipeline health, read API.

Served by vitalstream itself (``vitalstream dashboard``, or the ``dashboard`` component of
``vitalstream up``); see docs/dashboard.md. One module per concern:

``server``   run it: log, warehouse access, live feed, uvicorn
``store``    reading the warehouse without fighting the sink (DuckDB: this process writes)
``feed``     the live feed from the log (a private consumer group) and the start-up seed
``board``    the in-memory latest-per-patient state behind the board
``history``  warehouse queries: vital series, alerts, NEWS2, metadata, dead letters
``notes``    a patient's clinical notes with their problems and medications (warehouse)
``accounts`` accounts and roles, Argon2 hashes;  ``sessions`` logins, CSRF, guessing brake
``web``      authentication of every request, CSRF check, security headers
``pages``    the HTML pages;  ``live`` server-sent events;  ``api`` the ``/api/v1`` read API
``acks``     acknowledging alerts (append-only);  ``health`` pipeline health, last model run
``prom``     /metrics;  ``apimodels`` the OpenAPI shapes of the notes and health answers
``templates/`` Jinja2;  ``static/`` JavaScript, CSS and uPlot 1.6.32 (vendored with its licence)

Importing this package needs the ``dashboard`` extra only for :mod:`.server` and below.
"""
