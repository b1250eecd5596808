"""What the service keeps in its database and runs in the background: ``db`` (tables, sessions,
migrations), ``scenarios`` (stored scenario revisions), ``leave`` (stored leave requests), ``jobs``
(the job queue), ``runner`` (``JobRunner``) and ``worker`` (one solve in a worker process), and
``models``: its records as they travel over HTTP (jobs, requests, revision diffs). Uses
``api.pipeline``, ``api.reports`` and ``api.settings``; never ``api.service``, which uses it.
"""
