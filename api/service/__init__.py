"""The HTTP service (FastAPI): ``app.create_app`` wires the settings (``api.settings``), the
database, the job runner, the middleware (``limits``), the error handlers (``handlers``) and the
routers (``routes/``). Requests and responses are the models in ``schemas`` and the store's
``api.store.models``; ``calculators``, ``impact`` and ``results`` are the work behind the routes
that is not storage. Uses ``api.store`` and ``api.pipeline``.
"""
