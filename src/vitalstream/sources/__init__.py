"""Ingestion edges: everything that brings events from outside into the log.

Every edge is a :class:`.base.Source` (``run(stop)``; an input counts as acknowledged only
after the log flush): :class:`.http.HttpSource`, :class:`.mqtt.MqttBridge`,
:class:`.files.FileSource` and :class:`vitalstream.simulate.run.SimulatorSource`.

* :mod:`.http` — ``POST /stream`` ingest server (FastAPI/uvicorn), the smartwatch events' endpoint;
* :mod:`.mqtt` — MQTT bridge (paho-mqtt), the device gateway's ``health/device_data``;
* :mod:`.files` — CSV and JSON-lines files with a resumable checkpoint (clinical notes, heart-rate reference data);
* :mod:`.replay_client` — replays recorded watch events to an HTTP server (the smartwatch replay client);
* :mod:`.targets` — where ``vitalstream simulate --to URL`` sends (HTTP or MQTT), chosen by
  URL scheme through :func:`vitalstream.registry.open_url`.

Every edge shares :mod:`.ingest`: route by shape, validate with
:func:`vitalstream.events.decode`, key with :func:`vitalstream.events.key_of`, and send every
rejected input to the dead letters. Heavy dependencies (FastAPI, paho) load only in the
module that needs them.
"""
