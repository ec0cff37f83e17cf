"""The reference HIS: a small hospital system built on the SDK that speaks the driver API.

The conformance suite drives a HIS through ``conformance/driver-api.yaml``; this package is a
complete, honest implementation of it — the path a Java or .NET vendor's HIS takes, with the
mock platform as a separate server process:

- ``app.py`` — the HTTP layer (starlette): routes, request checks, JSON in and out;
- ``service.py`` — the HIS: nhsa-kit's SDK, its own SQLite database (``store.py``), the
  SDK's journal, ``client.recover()`` at start-up.

Run it against a mock and let the suite drive it::

    export NHSA_MOCK_ADMIN_TOKEN=<a secret of 16+ characters>   # both commands read it
    nhsa mock serve --port 8700 &
    python -m examples.reference_his --port 8800 &
    nhsa conformance run --driver http://127.0.0.1:8800 --mock http://127.0.0.1:8700

``nhsa demo`` does exactly this, with temporary ports and folders.
"""
